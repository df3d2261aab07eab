"""FSM state kept in memory for the length of one update: one read and one write of Redis.

A ticket journey step reads the user's state and data several times (the middleware reads the
state, each step reads the data to find its message, `update_data` reads before it writes)
and writes them one to four times: with Redis that was six to eight round trips per update,
besides the lock's two. While an update holds its user's isolation lock no other update of
that user runs, here or in another instance, so what it read or wrote stays true until the
lock is let go. `LockedCacheStorage` remembers it for exactly that long: the first read
fetches the state and the data together, later reads are answered from memory, writes are
kept in memory and written together when the update lets go of the lock (before the lock
itself is released, so the next holder, here or in another instance, reads them).
`bot.isolation.LocalFirstIsolation` calls `hold` and `release`. Outside an update (nothing
held) every call goes straight to the shared storage.

A process that dies in the middle of an update loses that update's changes of state: the
user is where the previous update left them, and a button the dying update had sent answers
as out of date.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

STATE: Final = "state"  # aiogram's names of the two records of a key
DATA: Final = "data"


@runtime_checkable
class BatchedStorage(Protocol):
    """A shared storage that reads and writes a key's state and data in one round trip."""

    async def read_both(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        """Return the key's state and data."""
        ...

    async def write_both(self, key: StorageKey, changes: Mapping[str, Any]) -> None:
        """Write `changes` (the state under STATE, the data under DATA; either may be absent)."""
        ...


@dataclass
class _Held:
    """What one update read or wrote of its key, and which of it is not written yet."""

    values: dict[str, Any] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)


class LockedCacheStorage(BaseStorage):
    """Wraps a shared storage; caches a key's state and data while its update holds the lock."""

    def __init__(self, inner: BaseStorage) -> None:
        """Wrap `inner` (a RedisStorage; batched when it is a BatchedStorage)."""
        self.inner = inner
        self._batched = inner if isinstance(inner, BatchedStorage) else None
        self._held: dict[StorageKey, _Held] = {}

    def hold(self, key: StorageKey) -> None:
        """Start remembering `key` (its update took the lock)."""
        self._held[key] = _Held()

    async def release(self, key: StorageKey) -> None:
        """Write what the update changed, in one go, and forget `key` (before the lock goes)."""
        held = self._held.pop(key, None)
        if held is None or not held.dirty:
            return
        changes = {name: held.values[name] for name in sorted(held.dirty)}
        if self._batched is not None:
            await self._batched.write_both(key, changes)
            return
        if STATE in changes:
            await self.inner.set_state(key, changes[STATE])
        if DATA in changes:
            await self.inner.set_data(key, changes[DATA])

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

    async def _remembered(self, key: StorageKey, held: _Held, name: str) -> Any:
        """Return the held key's state or data, reading the shared storage the first time."""
        if name not in held.values:
            if STATE not in held.values and DATA not in held.values:
                if self._batched is not None:
                    state, data = await self._batched.read_both(key)
                else:
                    state, data = await self.inner.get_state(key), await self.inner.get_data(key)
                held.values[STATE], held.values[DATA] = state, data
            elif name == STATE:
                held.values[STATE] = await self.inner.get_state(key)
            else:
                held.values[DATA] = await self.inner.get_data(key)
        return held.values[name]

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Remember the state while the key is held (written on release), else write it."""
        held = self._held.get(key)
        if held is None:
            await self.inner.set_state(key, state)
            return
        held.values[STATE] = state.state if isinstance(state, State) else state
        held.dirty.add(STATE)

    async def get_state(self, key: StorageKey) -> str | None:
        """Return the state: from memory if this update read or wrote it already."""
        held = self._held.get(key)
        if held is None:
            return await self.inner.get_state(key)
        state: str | None = await self._remembered(key, held, STATE)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Remember a copy while the key is held (written on release), else write it."""
        held = self._held.get(key)
        if held is None:
            await self.inner.set_data(key, data)
            return
        held.values[DATA] = copy.deepcopy(dict(data))
        held.dirty.add(DATA)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """Return a copy of the data: from memory if this update read or wrote it already."""
        held = self._held.get(key)
        if held is None:
            return await self.inner.get_data(key)
        data: dict[str, Any] = copy.deepcopy(await self._remembered(key, held, DATA))
        return data

    async def close(self) -> None:
        """Forget everything and close the shared storage."""
        self._held.clear()
        await self.inner.close()
