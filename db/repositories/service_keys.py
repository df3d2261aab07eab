"""Keys the service makes for itself: insert one only if its name is free, read it back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ServiceKey
from db.repositories.dialect import insert_for


async def insert_if_absent(session: AsyncSession, name: str, value: str, *, now: datetime) -> bool:
    """Keep `value` under `name` unless a key of that name exists; return whether this call did.

    ON CONFLICT DO NOTHING: of two instances starting at once, one insert wins and the other
    is dropped without an error, so both read back the winner's value.
    """
    statement = (
        insert_for(session, ServiceKey)
        .values(name=name, value=value, created_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def get(session: AsyncSession, name: str) -> str | None:
    """Return the value kept under `name`, or None."""
    value: str | None = await session.scalar(
        select(ServiceKey.value).where(ServiceKey.name == name)
    )
    return value
