"""Outer middlewares: the user upsert that every handler relies on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.texts import lang_of
from db.repositories.users import Profile, choose_language, upsert_users
from payments.i18n import prepare
from payments.loop_turns import Crowd
from payments.metrics import UPDATE_SECONDS, UPDATES
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
        self._queue: list[tuple[Profile, asyncio.Future[str | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, profile: Profile) -> str | None:
        """Return once the profile is committed: the language the user picked, if any."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._queue.append((profile, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the rest of the burst enqueue first
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                chosen = await self._upsert([p for p, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for profile, future in batch:
                if not future.done():
                    future.set_result(chosen.get(profile.id))

    async def _upsert(self, profiles: list[Profile]) -> dict[str, str]:
        # On PostgreSQL one statement with no BEGIN and COMMIT around it (db/repositories/
        # users.py): one round trip instead of four, each of which waited a turn of a busy
        # loop while a new customer's /start waited for its row.
        return await upsert_users(self._sessionmaker, profiles, self._clock.now())


class UserMiddleware(BaseMiddleware):
    """Upsert the sender once per update (cached for a while) and put `user` in the data.

    The user's language is the one they picked in the bot, else Telegram's language code.
    The middleware is in the data too (`user_middleware`), for the handler that stores a pick.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        admin_ids: frozenset[int],
        test_ids: frozenset[str],
        staff_ids: frozenset[int] = frozenset(),
        cache_seconds: float = 600.0,
        cache_size: int = 50_000,
    ) -> None:
        """Keep what the middleware needs; the cache saves a write per update for regulars."""
        self._writer = UserWriter(sessionmaker, clock)
        self._admin_ids = admin_ids
        self._staff_ids = staff_ids
        self._test_ids = test_ids
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._sessionmaker = sessionmaker
        self._seen: OrderedDict[Profile, tuple[float, str | None]] = OrderedDict()

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
        chosen = self._cached(profile)
        if chosen is None:
            chosen = (await self._writer.write(profile),)
            self._remember(profile, chosen[0])
        language = chosen[0] or profile.language
        await prepare(language)  # a language's first update builds its texts off the loop
        data["user"] = UserInfo(
            id=profile.id,
            first_name=profile.first_name,
            language=language,
            is_admin=tg_user.id in self._admin_ids,
            is_staff=tg_user.id in self._staff_ids,
            is_test=is_test_user(profile.id, self._test_ids),
        )
        data["user_middleware"] = self
        return await handler(event, data)

    def _cached(self, profile: Profile) -> tuple[str | None] | None:
        """Return (the picked language or None) if the profile was written lately, else None."""
        seen = self._seen.get(profile)
        if seen is None or time.monotonic() - seen[0] > self._cache_seconds:
            return None
        return (seen[1],)

    def _remember(self, profile: Profile, chosen: str | None) -> None:
        self._seen[profile] = (time.monotonic(), chosen)
        self._seen.move_to_end(profile)
        while len(self._seen) > self._cache_size:
            self._seen.popitem(last=False)

    async def choose_language(self, user_id: str, language: str) -> None:
        """Store a user's pick; their next update speaks it, whatever Telegram says."""
        async with self._sessionmaker.begin() as session:
            await choose_language(session, user_id, language)
        self.forget(user_id)

    def forget(self, user_id: str) -> None:
        """Drop a user from the cache so their next update writes again."""
        for profile in [p for p in self._seen if p.id == user_id]:
            del self._seen[profile]


class UpdateMetrics(BaseMiddleware):
    """Count every update by result (handled, unhandled, error) and time its handling.

    The outermost middleware, so the time covers the user upsert and the handler. With a
    `crowd`, the update counts in it meanwhile (payments/loop_turns.py).
    """

    def __init__(self, crowd: Crowd | None = None) -> None:
        """Count updates in `crowd` while they are handled (None: nowhere)."""
        self._crowd = crowd

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Time the update and count how it went."""
        started = time.perf_counter()
        result = "error"
        try:
            with self._crowd.serving() if self._crowd else contextlib.nullcontext():
                outcome = await handler(event, data)
            result = "unhandled" if outcome is UNHANDLED else "handled"
            return outcome
        finally:
            UPDATE_SECONDS.observe(time.perf_counter() - started)
            UPDATES.labels(result=result).inc()
