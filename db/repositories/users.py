"""Users: upsert on every contact, look-ups, blocked marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.repositories.dialect import insert_for


@dataclass(frozen=True, slots=True)
class Profile:
    """What a Telegram update tells about its sender."""

    id: str
    first_name: str | None
    last_name: str | None
    username: str | None
    language: str


async def upsert_user(session: AsyncSession, profile: Profile, now: datetime) -> bool:
    """Insert or refresh a user from their profile; return whether the row is new."""
    stmt = insert_for(session, User).values(
        id=profile.id,
        first_name=profile.first_name,
        last_name=profile.last_name,
        username=profile.username,
        language=profile.language,
        created_at=now,
        last_seen_at=now,
        is_blocked=False,
        onboarding_completed=False,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[User.id],
        set_={
            "first_name": stmt.excluded.first_name,
            "last_name": stmt.excluded.last_name,
            "username": stmt.excluded.username,
            "language": stmt.excluded.language,
            "last_seen_at": stmt.excluded.last_seen_at,
            "is_blocked": False,
        },
    ).returning(User.created_at)
    created_at = (await session.execute(stmt)).scalar_one()
    return bool(created_at == now)


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    """Return a user by id."""
    return await session.get(User, user_id)


async def mark_blocked(session: AsyncSession, user_id: str) -> None:
    """Remember that a user blocked the bot, so broadcasts skip them."""
    await session.execute(update(User).where(User.id == user_id).values(is_blocked=True))
