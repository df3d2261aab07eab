"""Which payments the webhook has already seen succeed (one notification at a time per
payment is payments/keyed_locks.py's KeyedLocks).

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

from collections import OrderedDict

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
