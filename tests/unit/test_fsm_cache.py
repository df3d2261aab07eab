"""The FSM cache: while an update holds its user's lock, the shared storage is read once."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.factory import create_dispatcher
from bot.fsm_cache import LockedCacheStorage
from bot.isolation import ForgetfulEventIsolation, LocalFirstIsolation
from payments.ports import SystemClock


class Flow(StatesGroup):
    """A two-step flow."""

    first = State()
    second = State()


class CountingStorage(MemoryStorage):
    """The shared storage (Redis in production), counting what is read from it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get_state(self, key: StorageKey) -> str | None:
        self.reads += 1
        return await super().get_state(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        self.reads += 1
        return await super().get_data(key)


KEY = StorageKey(bot_id=1, chat_id=7, user_id=7)


async def test_one_update_reads_the_shared_storage_once_and_writes_through() -> None:
    shared = CountingStorage()
    await shared.set_data(KEY, {"msg_id": 3})
    cache = LockedCacheStorage(shared)
    isolation = LocalFirstIsolation(ForgetfulEventIsolation(), cache=cache)

    async with isolation.lock(KEY):
        assert await cache.get_state(KEY) is None
        assert await cache.get_data(KEY) == {"msg_id": 3}
        await cache.set_state(KEY, Flow.second)
        await cache.update_data(KEY, {"date": "2026-12-03"})
        for _ in range(3):
            assert await cache.get_state(KEY) == Flow.second.state
            assert await cache.get_data(KEY) == {"msg_id": 3, "date": "2026-12-03"}
        assert shared.reads == 2  # noqa: PLR2004 - the state and the data, once each
        # Written through at once: another instance taking the lock next sees it.
        assert await MemoryStorage.get_state(shared, KEY) == Flow.second.state
        assert await MemoryStorage.get_data(shared, KEY) == {"msg_id": 3, "date": "2026-12-03"}

    assert len(cache) == 0
    # The lock let go: the next update reads the shared storage again, not a memory of it.
    await shared.set_data(KEY, {"msg_id": 9})
    async with isolation.lock(KEY):
        assert await cache.get_data(KEY) == {"msg_id": 9}


async def test_data_handed_out_is_a_copy() -> None:
    shared = CountingStorage()
    cache = LockedCacheStorage(shared)
    isolation = LocalFirstIsolation(ForgetfulEventIsolation(), cache=cache)

    async with isolation.lock(KEY):
        await cache.set_data(KEY, {"qty": {"adult": 1}})
        data = await cache.get_data(KEY)
        data["qty"]["adult"] = 5
        assert await cache.get_data(KEY) == {"qty": {"adult": 1}}


async def test_outside_an_update_every_read_goes_to_the_shared_storage() -> None:
    shared = CountingStorage()
    cache = LockedCacheStorage(shared)

    await cache.set_state(KEY, Flow.first)
    assert await cache.get_state(KEY) == Flow.first.state
    assert await cache.get_state(KEY) == Flow.first.state
    assert shared.reads == 2  # noqa: PLR2004


def test_the_dispatcher_keeps_the_shared_storage_even_while_nothing_is_held() -> None:
    # An idle cache has len() 0; aiogram takes `storage or MemoryStorage()`, which put every
    # instance's FSM state in its own memory: a journey broke when its next update reached
    # another instance (tests/e2e/test_instances.py shows that end to end).
    cache = LockedCacheStorage(MemoryStorage())
    dispatcher = create_dispatcher(
        routers=[Router()],
        sessionmaker=async_sessionmaker(),
        clock=SystemClock(),
        admin_ids=frozenset(),
        test_ids=frozenset(),
        storage=cache,
    )
    assert dispatcher.fsm.storage is cache
