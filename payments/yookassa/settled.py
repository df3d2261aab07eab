"""What the webhook remembers between notifications: one at a time per payment, and which
payments it has already seen succeed.

YooKassa delivers a notification again when our answer takes longer than it waits, and sends
`payment.succeeded` after a two-stage payment that our own capture already settled. In a sale
rush both came in hundreds: the PostgreSQL rush re-fetched 1,863 payments for 500 paid ones,
each re-fetch and apply queueing for the same pool and event loop the customers' screens
waited for. A payment YooKassa reports succeeded stays succeeded (a refund is an object of its
own), so once this process has applied that, a later notification about it needs neither a
re-fetch nor a transaction. Nothing here trusts a body: an id is remembered only after
YooKassa's own answer was applied, and an id not remembered (another instance settled it, or
this process restarted) takes the usual way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator

# Ids of settled payments kept in memory; ~100 bytes each.
SETTLED_MEMORY = 20_000


class SettledPayments:
    """The YooKassa ids of payments this process has applied as succeeded, newest kept."""

    def __init__(self, size: int = SETTLED_MEMORY) -> None:
        """Remember at most `size` ids, forgetting the least recently seen first."""
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, provider_id: object) -> bool:
        """Whether `provider_id` was applied as succeeded (and not forgotten since)."""
        if provider_id not in self._ids:
            return False
        self._ids.move_to_end(str(provider_id))
        return True

    def add(self, provider_id: str) -> None:
        """Remember that `provider_id` was applied as succeeded."""
        self._ids[provider_id] = None
        self._ids.move_to_end(provider_id)
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)


class Turns:
    """One notification at a time per payment: a redelivery that arrives while the first
    delivery is still being handled waits for it, then finds the payment settled."""

    def __init__(self) -> None:
        """No payment has a notification in hand yet."""
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, provider_id: str) -> AsyncIterator[None]:
        """Wait for this payment's turn and hold it for the block."""
        lock, users = self._locks.get(provider_id, (asyncio.Lock(), 0))
        self._locks[provider_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[provider_id]
            if users == 1:
                del self._locks[provider_id]
            else:
                self._locks[provider_id] = (lock, users - 1)
