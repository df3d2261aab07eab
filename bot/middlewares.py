"""Outer middlewares: the user upsert that every handler relies on."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.texts import lang_of
from db.repositories.users import Profile, upsert_user
from payments.ports import Clock
from payments.pricing import is_test_user
from payments.types import UserInfo

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserMiddleware(BaseMiddleware):
    """Upsert the sender once per update (cached for a while) and put `user` in the data."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        admin_ids: frozenset[int],
        test_ids: frozenset[str],
        cache_seconds: float = 600.0,
        cache_size: int = 50_000,
    ) -> None:
        """Keep what the middleware needs; the cache saves a write per update for regulars."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._admin_ids = admin_ids
        self._test_ids = test_ids
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._seen: OrderedDict[Profile, float] = OrderedDict()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Upsert the sender and hand their UserInfo to filters and handlers."""
        tg_user: User | None = data.get("event_from_user")
        if tg_user is None or tg_user.is_bot:
            return await handler(event, data)
        profile = Profile(
            id=str(tg_user.id),
            first_name=tg_user.first_name,
            last_name=tg_user.last_name,
            username=tg_user.username,
            language=lang_of(tg_user.language_code),
        )
        if self._stale(profile):
            async with self._sessionmaker.begin() as session:
                await upsert_user(session, profile, self._clock.now())
            self._remember(profile)
        data["user"] = UserInfo(
            id=profile.id,
            first_name=profile.first_name,
            language=profile.language,
            is_admin=tg_user.id in self._admin_ids,
            is_test=is_test_user(profile.id, self._test_ids),
        )
        return await handler(event, data)

    def _stale(self, profile: Profile) -> bool:
        seen = self._seen.get(profile)
        return seen is None or time.monotonic() - seen > self._cache_seconds

    def _remember(self, profile: Profile) -> None:
        self._seen[profile] = time.monotonic()
        self._seen.move_to_end(profile)
        while len(self._seen) > self._cache_size:
            self._seen.popitem(last=False)

    def forget(self, user_id: str) -> None:
        """Drop a user from the cache so their next update writes again."""
        for profile in [p for p in self._seen if p.id == user_id]:
            del self._seen[profile]
