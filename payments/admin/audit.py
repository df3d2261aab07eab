"""The admin audit log: one row per admin action, refused ones included.

Functions, not a base class: each use-case passes its own sessionmaker and clock.
"""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import audit as audit_repo
from payments.admin.results import Refusal
from payments.ports import Clock


async def record(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    admin_id: int,
    action: str,
    target: str | None,
    args: dict[str, Any],
    result: str,
    session: AsyncSession | None = None,
) -> int:
    """Write an audit row, in the caller's transaction when it has one; return its id."""
    if session is not None:
        entry = await audit_repo.record(
            session,
            admin_id=admin_id,
            action=action,
            target=target,
            args=args,
            result=result,
            at=clock.now(),
        )
        return entry.id
    async with sessionmaker.begin() as own:
        return await record(sessionmaker, clock, admin_id, action, target, args, result, own)


async def refuse(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    admin_id: int,
    action: str,
    target: str | None,
    args: dict[str, Any],
    refusal: Refusal,
) -> NoReturn:
    """Record a refused action and raise the refusal."""
    await record(sessionmaker, clock, admin_id, action, target, args, f"refused: {refusal.note}")
    raise refusal
