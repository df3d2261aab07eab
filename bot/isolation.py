"""Per-user event isolation that forgets users once they are idle.

aiogram's SimpleEventIsolation keeps one asyncio.Lock per user forever (its source says an
"unused locks cleaner is needed"): a shop with a million customers would hold a million
locks. This one counts who holds or waits for a key and drops the lock when nobody does
(payments/keyed_locks.py).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey

from bot.fsm_cache import LockedCacheStorage
from payments.keyed_locks import KeyedLocks


class ForgetfulEventIsolation(BaseEventIsolation):
    """Handle one user's updates one at a time, within one process."""

    def __init__(self) -> None:
        """Start with no locks."""
        self._keys: KeyedLocks[StorageKey] = KeyedLocks()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        """Hold the key's lock for the duration of the block."""
        async with self._keys.hold(key):
            yield

    def __bool__(self) -> bool:
        """Always true, even with no lock held.

        Without this, `__len__` makes an idle isolation falsy, and aiogram's Dispatcher (which
        takes `events_isolation or DisabledEventIsolation()`) silently dropped it: one user's
        updates ran side by side and a double tap on a pay button made two orders.
        """
        return True

    def __len__(self) -> int:
        """Return how many keys are held or awaited right now."""
        return len(self._keys)

    def users_of(self, key: StorageKey) -> int:
        """Return how many updates hold or await the key's lock right now."""
        return self._keys.users_of(key)

    async def close(self) -> None:
        """Forget every lock."""
        self._keys.clear()


class LocalFirstIsolation(BaseEventIsolation):
    """Across instances through a shared lock (Redis), but in-process waiters wait in-process.

    aiogram's Redis lock is taken by polling: a second update of a user who still has one in
    flight tries again every 100 ms. In a ticket journey that is the rule, not the exception
    (the customer presses the next button while the last step still saves its state), so a
    step took 100 ms more than it needed. Here such an update first waits for an asyncio lock
    in this process, woken the moment the first one is done, and only then takes the shared
    lock, which another instance rarely holds.

    With `cache`, the key's FSM state and data are remembered while the lock is held (see
    bot/fsm_cache.py): nobody else can change them meanwhile.
    """

    def __init__(self, shared: BaseEventIsolation, cache: LockedCacheStorage | None = None) -> None:
        """Wrap the shared isolation (and tell `cache` when a key is held)."""
        self.local = ForgetfulEventIsolation()
        self._shared = shared
        self._cache = cache

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        """Hold the key's local lock, then the shared one, for the duration of the block."""
        async with self.local.lock(key), self._shared.lock(key):
            if self._cache is None:
                yield
                return
            self._cache.hold(key)
            try:
                yield
            finally:
                await self._cache.release(key)  # its writes, before the shared lock goes

    def __bool__(self) -> bool:
        """Always true (see ForgetfulEventIsolation.__bool__)."""
        return True

    async def close(self) -> None:
        """Forget the local locks and close the shared isolation."""
        await self.local.close()
        await self._shared.close()
