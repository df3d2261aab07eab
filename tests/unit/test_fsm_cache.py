"""The FSM cache: while an update holds its user's lock, the shared storage is read once."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from bot.fsm_cache import LockedCacheStorage
from bot.isolation import ForgetfulEventIsolation, LocalFirstIsolation


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


async def test_one_update_reads_the_shared_storage_once_and_writes_when_it_lets_go() -> None:
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
        # Not written yet: nobody else may read this key while the lock is held.
        assert await MemoryStorage.get_state(shared, KEY) is None

    # Written before the lock went: another instance taking it next sees the update's changes.
    assert await MemoryStorage.get_state(shared, KEY) == Flow.second.state
    assert await MemoryStorage.get_data(shared, KEY) == {"msg_id": 3, "date": "2026-12-03"}
    assert len(cache) == 0
    # The lock let go: the next update reads the shared storage again, not a memory of it.
    await shared.set_data(KEY, {"msg_id": 9})
    async with isolation.lock(KEY):
        assert await cache.get_data(KEY) == {"msg_id": 9}


class BatchingStorage(CountingStorage):
    """A shared storage that reads and writes state and data together (as Redis does here)."""

    def __init__(self) -> None:
        super().__init__()
        self.round_trips: list[str] = []

    async def read_both(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        self.round_trips.append("read")
        return await MemoryStorage.get_state(self, key), await MemoryStorage.get_data(self, key)

    async def write_both(self, key: StorageKey, changes: Mapping[str, Any]) -> None:
        self.round_trips.append("write " + " ".join(changes))
        if "state" in changes:
            await MemoryStorage.set_state(self, key, changes["state"])
        if "data" in changes:
            await MemoryStorage.set_data(self, key, changes["data"])


async def test_a_batched_storage_is_read_once_and_written_once_per_update() -> None:
    shared = BatchingStorage()
    cache = LockedCacheStorage(shared)
    isolation = LocalFirstIsolation(ForgetfulEventIsolation(), cache=cache)

    # A journey step as the handlers make it: the state, the data, two writes of each.
    async with isolation.lock(KEY):
        assert await cache.get_state(KEY) is None
        await cache.update_data(KEY, {"msg_id": 3})
        await cache.set_state(KEY, Flow.first)
        await cache.update_data(KEY, {"date": "2026-12-03"})
        await cache.set_state(KEY, Flow.second)
    assert shared.round_trips == ["read", "write data state"]
    assert shared.reads == 0  # never one at a time

    # An update that only reads writes nothing.
    async with isolation.lock(KEY):
        assert await cache.get_data(KEY) == {"msg_id": 3, "date": "2026-12-03"}
    assert shared.round_trips == ["read", "write data state", "read"]

    # One that writes before reading reads only what it has not written; clearing the data
    # writes it empty.
    async with isolation.lock(KEY):
        await cache.set_data(KEY, {})
        assert await cache.get_state(KEY) == Flow.second.state
    assert shared.round_trips[3:] == ["write data"]
    assert shared.reads == 1
    assert await MemoryStorage.get_data(shared, KEY) == {}


class SharedLockWatchingTheState(ForgetfulEventIsolation):
    """The shared (Redis) lock, noting the stored state at the moment it is let go."""

    def __init__(self, shared: MemoryStorage) -> None:
        super().__init__()
        self.shared = shared
        self.state_at_release: list[str | None] = []

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with super().lock(key):
            yield
            self.state_at_release.append(await MemoryStorage.get_state(self.shared, key))


async def test_the_writes_are_stored_before_the_shared_lock_is_let_go() -> None:
    # The next holder may be another instance: it must find this update's state at once.
    shared = BatchingStorage()
    watch = SharedLockWatchingTheState(shared)
    cache = LockedCacheStorage(shared)
    isolation = LocalFirstIsolation(watch, cache=cache)

    async with isolation.lock(KEY):
        await cache.set_state(KEY, Flow.second)
    assert watch.state_at_release == [Flow.second.state]


async def test_an_update_that_fails_still_leaves_the_state_it_set() -> None:
    shared = BatchingStorage()
    cache = LockedCacheStorage(shared)
    isolation = LocalFirstIsolation(ForgetfulEventIsolation(), cache=cache)

    async def failing_step() -> None:
        async with isolation.lock(KEY):
            await cache.set_state(KEY, Flow.first)
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError, match="handler failed"):
        await failing_step()
    # As when every write went through at once: the message it may have sent matches the state.
    assert await MemoryStorage.get_state(shared, KEY) == Flow.first.state
    assert len(cache) == 0


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
    assert await MemoryStorage.get_state(shared, KEY) == Flow.first.state  # written at once
