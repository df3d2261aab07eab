"""Per-user isolation: one update at a time per user, and no lock kept once a user is idle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.factory import create_dispatcher
from bot.fsm_cache import LockedCacheStorage
from bot.isolation import ForgetfulEventIsolation, LocalFirstIsolation
from payments.ports import SystemClock


def _key(user: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user, user_id=user)


async def test_one_users_updates_run_one_at_a_time_and_others_in_parallel() -> None:
    isolation = ForgetfulEventIsolation()
    running: dict[int, int] = {1: 0, 2: 0}
    most: dict[int, int] = {1: 0, 2: 0}

    async def update(user: int) -> None:
        async with isolation.lock(_key(user)):
            running[user] += 1
            most[user] = max(most[user], running[user])
            await asyncio.sleep(0.01)
            running[user] -= 1

    await asyncio.gather(*(update(1) for _ in range(5)), *(update(2) for _ in range(5)))
    assert most == {1: 1, 2: 1}
    assert len(isolation) == 0


async def test_locks_are_forgotten_even_when_the_handler_fails() -> None:
    isolation = ForgetfulEventIsolation()
    for user in range(1000):
        try:
            async with isolation.lock(_key(user)):
                if user % 2:
                    raise RuntimeError("handler failed")
        except RuntimeError:
            pass
    assert len(isolation) == 0


async def test_two_users_handlers_overlap_while_one_users_wait_for_each_other() -> None:
    # Each of two users' handlers waits for an event only the other user's handler sets: with
    # one lock for everybody neither could finish, so finishing proves they overlapped.
    isolation = ForgetfulEventIsolation()
    seen = {1: asyncio.Event(), 2: asyncio.Event()}

    async def handler(user: int, other: int) -> None:
        async with isolation.lock(_key(user)):
            seen[user].set()
            await seen[other].wait()

    async with asyncio.timeout(2):
        await asyncio.gather(handler(1, 2), handler(2, 1))

    # The same user's second update does not start before the first has finished.
    first_inside = asyncio.Event()
    release_first = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with isolation.lock(_key(1)):
            order.append("first in")
            first_inside.set()
            await release_first.wait()
            order.append("first out")

    async def second() -> None:
        async with isolation.lock(_key(1)):
            order.append("second in")

    first_task = asyncio.create_task(first())
    await first_inside.wait()
    second_task = asyncio.create_task(second())
    # The second update is now queued on user 1's lock, and user 2 still gets through.
    async with asyncio.timeout(2):
        async with isolation.lock(_key(2)):
            order.append("other user")
    release_first.set()
    await asyncio.gather(first_task, second_task)
    assert order == ["first in", "other user", "first out", "second in"]
    assert len(isolation) == 0


def _dispatcher(**parts: Any) -> Dispatcher:
    """A Dispatcher with no handlers, built as the service builds its own."""
    return create_dispatcher(
        routers=[Router()],
        sessionmaker=async_sessionmaker(),
        clock=SystemClock(),
        admin_ids=frozenset(),
        test_ids=frozenset(),
        **parts,
    )


def test_the_dispatcher_keeps_our_isolation_even_while_it_is_idle() -> None:
    # An idle isolation has len() 0; aiogram takes `events_isolation or Disabled...()`.
    assert isinstance(_dispatcher().fsm.events_isolation, ForgetfulEventIsolation)


def test_the_dispatcher_keeps_the_shared_storage_even_while_nothing_is_held() -> None:
    # An idle cache has len() 0; aiogram takes `storage or MemoryStorage()`, which put every
    # instance's FSM state in its own memory: a journey broke when its next update reached
    # another instance (tests/e2e/test_instances.py shows that end to end).
    cache = LockedCacheStorage(MemoryStorage())
    assert _dispatcher(storage=cache).fsm.storage is cache


class _RecordingShared(ForgetfulEventIsolation):
    """A shared lock that records every attempt to take it (as a Redis lock's SET would)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        self.attempts += 1
        async with super().lock(key):
            yield


async def test_a_users_second_update_waits_in_process_not_on_the_shared_lock() -> None:
    """While one update of a user runs, the next one of the same user waits for the local lock
    (woken at once when the first is done) instead of polling the shared Redis lock."""
    shared = _RecordingShared()
    isolation = LocalFirstIsolation(shared)
    release = asyncio.Event()
    order: list[str] = []

    async def update(name: str, hold: bool) -> None:
        async with isolation.lock(_key(1)):
            order.append(f"{name} in")
            if hold:
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(update("first", hold=True))
    second = asyncio.create_task(update("second", hold=False))
    for _ in range(100):
        if isolation.local.users_of(_key(1)) == 2:  # noqa: PLR2004 - both updates are there
            break
        await asyncio.sleep(0)
    assert isolation.local.users_of(_key(1)) == 2  # noqa: PLR2004
    assert shared.attempts == 1  # only the running update touched the shared lock
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first in", "first out", "second in", "second out"]
    assert shared.attempts == 2  # noqa: PLR2004
    assert len(isolation.local) == 0
    assert len(shared) == 0
