"""One holder at a time per key, with a key's lock forgotten as soon as nobody holds or awaits it.

A shop has a million customers and as many payments: a lock kept per key forever (aiogram's
SimpleEventIsolation, whose source says an "unused locks cleaner is needed") would hold them
all. Used for a user's updates (bot/isolation.py) and a payment's notifications
(payments/yookassa/webhook.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class KeyedLocks(Generic[K]):
    """An asyncio lock per key, counted while held or awaited, dropped when nobody does."""

    def __init__(self) -> None:
        """Start with no locks."""
        self._locks: dict[K, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: K) -> AsyncIterator[None]:
        """Wait for the key's lock and hold it for the block."""
        held = self._locks.get(key)
        lock = held[0] if held is not None else asyncio.Lock()
        self._locks[key] = (lock, (held[1] if held is not None else 0) + 1)
        try:
            async with lock:
                yield
        finally:
            held = self._locks.get(key)
            if held is None or held[0] is not lock:
                pass  # forgotten by clear() meanwhile
            elif held[1] <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, held[1] - 1)

    def users_of(self, key: K) -> int:
        """Return how many hold or await the key's lock right now."""
        return self._locks.get(key, (None, 0))[1]

    def clear(self) -> None:
        """Forget every lock."""
        self._locks.clear()

    def __len__(self) -> int:
        """Return how many keys are held or awaited right now."""
        return len(self._locks)

    def __bool__(self) -> bool:
        """Always true, even with no lock held (an idle one is not a missing one)."""
        return True
