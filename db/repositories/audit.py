"""The admin audit log: append a row per admin action, read them back for look-ups and export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditLog


async def record(
    session: AsyncSession,
    *,
    admin_id: int,
    action: str,
    target: str | None,
    args: dict[str, Any],
    result: str,
    at: datetime,
) -> AuditLog:
    """Append one audit row and return it with its id."""
    entry = AuditLog(
        admin_id=admin_id,
        action=action,
        target=target[:64] if target else None,
        args=args,
        result=result,
        created_at=at,
    )
    session.add(entry)
    await session.flush()
    return entry


async def get_entry(session: AsyncSession, entry_id: int) -> AuditLog | None:
    """Return one audit row, read afresh."""
    result = await session.execute(
        select(AuditLog).where(AuditLog.id == entry_id).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def move_result(
    session: AsyncSession, entry_id: int, *, action: str, from_results: Sequence[str], to: str
) -> bool:
    """Change a row's result if it is one of `from_results`; return whether it changed.

    Rows whose result is a state (a broadcast awaiting confirmation, sending, stopping) move
    with this one conditional UPDATE, so two admins pressing the same button act once.
    """
    result = await session.execute(
        update(AuditLog)
        .where(
            AuditLog.id == entry_id,
            AuditLog.action == action,
            AuditLog.result.in_(tuple(from_results)),
        )
        .values(result=to)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def for_target(
    session: AsyncSession, target: str, *, exclude: Sequence[str] = (), limit: int = 20
) -> list[AuditLog]:
    """Return the newest rows about one target (a payment id, say), oldest first."""
    query = select(AuditLog).where(AuditLog.target == target)
    if exclude:
        query = query.where(AuditLog.action.not_in(tuple(exclude)))
    result = await session.execute(query.order_by(AuditLog.id.desc()).limit(limit))
    return list(reversed(result.scalars().all()))


async def since(session: AsyncSession, moment: datetime) -> list[AuditLog]:
    """Return every row written since a moment, oldest first."""
    result = await session.execute(
        select(AuditLog).where(AuditLog.created_at >= moment).order_by(AuditLog.id)
    )
    return list(result.scalars())
