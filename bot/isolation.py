"""Per-user event isolation that forgets users once they are idle.

aiogram's SimpleEventIsolation keeps one asyncio.Lock per user forever (its source says an
"unused locks cleaner is needed"): a shop with a million customers would hold a million
locks. This one counts who holds or waits for a key and drops the lock when nobody does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey


class ForgetfulEventIsolation(BaseEventIsolation):
    """Handle one user's updates one at a time, within one process."""

    def __init__(self) -> None:
        """Start with no locks."""
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        """Hold the key's lock for the duration of the block."""
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            held = self._locks.get(key)
            if held is None or held[0] is not lock:
                pass  # forgotten by close() meanwhile
            elif (users := held[1]) <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __bool__(self) -> bool:
        """Always true, even with no lock held.

        Without this, `__len__` makes an idle isolation falsy, and aiogram's Dispatcher (which
        takes `events_isolation or DisabledEventIsolation()`) silently dropped it: one user's
        updates ran side by side and a double tap on a pay button made two orders.
        """
        return True

    def __len__(self) -> int:
        """Return how many keys are held or awaited right now."""
        return len(self._locks)

    async def close(self) -> None:
        """Forget every lock."""
        self._locks.clear()
