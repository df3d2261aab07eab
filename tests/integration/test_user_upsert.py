"""Every update's sender is written (bot/middlewares.py `UserWriter`): a newcomer is stored, and
a customer coming back is refreshed, on SQLite and (the services run) PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import UserWriter
from db.models import User
from db.repositories.users import Profile, choose_language
from tests.conftest import MovableClock

FIRST = datetime(2031, 4, 20, 12, 0, tzinfo=UTC)


def _profile(
    user_id: str, *, first_name: str = "Ann", username: str | None = None, language: str = "ru"
) -> Profile:
    return Profile(
        id=user_id, first_name=first_name, last_name=None, username=username, language=language
    )


async def _users(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, User]:
    async with sessionmaker() as session:
        return {u.id: u for u in (await session.execute(select(User))).scalars()}


async def test_a_burst_of_newcomers_is_stored_once_each(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Three first updates at once, one customer twice among them: two rows, each with its
    names, Telegram's language, and the moment it was first seen."""
    writer = UserWriter(sessionmaker, MovableClock(FIRST))

    picked = await asyncio.gather(
        writer.write(_profile("701", username="ann")),
        writer.write(_profile("701", username="ann")),
        writer.write(_profile("702", first_name="Bob", language="en")),
    )

    users = await _users(sessionmaker)
    assert list(picked) == [None, None, None]
    assert sorted(users) == ["701", "702"]
    assert (users["701"].first_name, users["701"].username, users["701"].language) == (
        "Ann",
        "ann",
        "ru",
    )
    assert (users["702"].first_name, users["702"].language) == ("Bob", "en")
    assert users["702"].created_at == users["702"].last_seen_at == FIRST
    assert not users["702"].is_blocked and not users["702"].language_chosen


async def test_a_customer_coming_back_is_refreshed_and_no_longer_blocked(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A customer who blocked the bot (so broadcasts skipped them) writes again under a new
    name and with another Telegram language: they are unblocked, their names and last-seen
    time follow, their first-seen time stays, and a language they picked in the bot wins."""
    clock = MovableClock(FIRST)
    writer = UserWriter(sessionmaker, clock)
    await writer.write(_profile("801"))
    await writer.write(_profile("802"))
    async with sessionmaker.begin() as session:
        await session.execute(update(User).values(is_blocked=True))
        await choose_language(session, "802", "ru")

    clock.advance(days=3)
    back = await asyncio.gather(
        writer.write(_profile("801", first_name="Anna", username="anna", language="en")),
        writer.write(_profile("802", language="en")),
    )

    users = await _users(sessionmaker)
    assert list(back) == [None, "ru"]
    renamed = users["801"]
    assert (renamed.first_name, renamed.username, renamed.language) == ("Anna", "anna", "en")
    assert renamed.created_at == FIRST
    assert renamed.last_seen_at == FIRST + timedelta(days=3)
    assert not renamed.is_blocked and not users["802"].is_blocked
    assert users["802"].language == "ru"
