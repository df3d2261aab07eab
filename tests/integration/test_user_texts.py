"""A language's first update: its texts are built before the handler runs, off the loop."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import UserMiddleware
from payments import i18n
from tests.conftest import MovableClock


async def test_the_first_update_in_a_language_finds_its_texts_built(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    middleware = UserMiddleware(sessionmaker, clock, frozenset(), frozenset())
    seen: dict[str, Any] = {}

    async def handler(event: TelegramObject, data: dict[str, Any]) -> None:
        seen["language"] = data["user"].language
        seen["ready"] = i18n.ready(data["user"].language)

    customer = User(id=700_301, is_bot=False, first_name="Ann", language_code="en-GB")
    kept = dict(i18n._BUILT)
    i18n._BUILT.clear()  # a service that has not spoken English yet
    try:
        await middleware(handler, customer, {"event_from_user": customer})
    finally:
        i18n._BUILT.clear()
        i18n._BUILT.update(kept)
    # Built by the middleware (in a worker thread, tests/unit/test_i18n.py), not by the
    # handler's first t() on the event loop.
    assert seen == {"language": "en", "ready": True}
