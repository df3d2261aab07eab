"""Outer middlewares: the user upsert that every handler relies on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.texts import lang_of
from db.repositories.users import Profile, upsert_users
from payments.ports import Clock
from payments.pricing import is_test_user
from payments.types import UserInfo

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserWriter:
    """Group commit of user upserts: every update waits for its own row, not for a lone write.

    Updates arrive in bursts (a getUpdates batch, a webhook burst). Each one enqueues its
    profile and awaits a future; one task writes everything queued so far in a single
    executemany transaction and resolves the futures. Under load that is one commit for dozens
    of updates instead of one each; alone, an update waits for one event-loop turn.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        """Keep the database and the clock."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._queue: list[tuple[Profile, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, profile: Profile) -> None:
        """Return once the profile is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((profile, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the rest of the burst enqueue first
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                async with self._sessionmaker.begin() as session:
                    await upsert_users(session, [p for p, _ in batch], self._clock.now())
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


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
        self._writer = UserWriter(sessionmaker, clock)
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
            await self._writer.write(profile)
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
