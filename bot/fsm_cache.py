"""FSM state kept in memory for the length of one update, so Redis is read once per update.

A ticket journey step reads the user's state and data several times (the middleware reads the
state, each step reads the data to find its message, `update_data` reads before it writes):
with Redis that was eight to ten round trips per update, most of them reading what the same
update had just read or written. While an update holds its user's isolation lock no other
update of that user runs, here or in another instance, so what it read or wrote stays true
until the lock is let go. `LockedCacheStorage` remembers it for exactly that long: writes go
to Redis at once (another instance sees them when it takes the lock next), reads after the
first are answered from memory, and the memory is dropped when the lock is released
(`bot.isolation.LocalFirstIsolation` calls `hold` and `drop`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

_STATE, _DATA = "state", "data"


class LockedCacheStorage(BaseStorage):
    """Wraps a shared storage; caches a key's state and data while its update holds the lock."""

    def __init__(self, inner: BaseStorage) -> None:
        """Wrap `inner` (a RedisStorage)."""
        self.inner = inner
        self._held: dict[StorageKey, dict[str, Any]] = {}

    def hold(self, key: StorageKey) -> None:
        """Start remembering `key` (its update took the lock)."""
        self._held[key] = {}

    def drop(self, key: StorageKey) -> None:
        """Forget `key` (its update let go of the lock)."""
        self._held.pop(key, None)

    def __bool__(self) -> bool:
        """Always true, even with no key held.

        Without this, `__len__` makes an idle storage falsy, and aiogram's Dispatcher (which
        takes `storage or MemoryStorage()`) silently put every user's FSM state in the
        process's memory: with several instances a journey broke as soon as its next update
        reached another instance ("this button is out of date"), and a restart lost it.
        """
        return True

    def __len__(self) -> int:
        """Return how many keys are remembered right now."""
        return len(self._held)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Write the state through, and remember it while the key is held."""
        await self.inner.set_state(key, state)
        if (held := self._held.get(key)) is not None:
            held[_STATE] = state.state if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        """Return the state: from memory if this update read or wrote it already."""
        held = self._held.get(key)
        if held is None:
            return await self.inner.get_state(key)
        if _STATE not in held:
            held[_STATE] = await self.inner.get_state(key)
        state: str | None = held[_STATE]
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Write the data through, and remember a copy while the key is held."""
        await self.inner.set_data(key, data)
        if (held := self._held.get(key)) is not None:
            held[_DATA] = copy.deepcopy(dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """Return a copy of the data: from memory if this update read or wrote it already."""
        held = self._held.get(key)
        if held is None:
            return await self.inner.get_data(key)
        if _DATA not in held:
            held[_DATA] = await self.inner.get_data(key)
        data: dict[str, Any] = copy.deepcopy(held[_DATA])
        return data

    async def close(self) -> None:
        """Forget everything and close the shared storage."""
        self._held.clear()
        await self.inner.close()
