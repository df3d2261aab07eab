"""Customers' answers first: YooKassa's notifications take turns on the event loop.

One process answers customers' updates and applies payment notifications on one event loop. In
a sale rush (`make bench`'s rush: 2 000 customers in a minute, 500 of them paying in the first
twenty seconds) both arrive faster than one core serves them, and every notification in hand
(its transactions, the capture, the tickets, the customer's notes) took the loop and pooled
connections from customers waiting for their next screen: on PostgreSQL the p99 of their
answers was 1-2.4 s, the checkout's median 1.6 s. Applying a notification sooner makes nobody's
screen come sooner: its customer is told through the sending lane, which Telegram's budget
paces anyway (payments/outbox/budget.py).

So notifications take turns (`LoopTurns.turn`): at most `limit` of them run at a time (the
WEBHOOK_CONCURRENCY setting, 1 by default) and the others wait in arrival order. While one
waits for YooKassa (its re-fetch, the capture: every gateway call goes through `away`) it lets
its turn go, so a slow YooKassa holds nobody else up, and it takes the turn back ahead of the
notifications that have not started. A notification waiting for its turn keeps its HTTP request
open; one kept past YooKassa's patience is posted again, and that post waits for the payment's
own lock (payments/yookassa/webhook.py) and then finds it settled.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar


class _Holder:
    """The turn a task holds: given back while it is away, taken back after."""

    __slots__ = ("held", "task", "turns")

    def __init__(self, turns: LoopTurns, task: asyncio.Task[object] | None) -> None:
        self.turns = turns
        self.task = task
        self.held = True


_HELD: ContextVar[_Holder | None] = ContextVar("loop_turn", default=None)


class LoopTurns:
    """At most `limit` holders at a time; those coming back from `away` go first."""

    def __init__(self, limit: int) -> None:
        """Allow `limit` (at least 1) holders at once."""
        if limit < 1:
            raise ValueError("limit: at least 1")
        self._limit = limit
        self._busy = 0
        self._returning: deque[asyncio.Future[None]] = deque()
        self._arriving: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> int:
        """How many may hold a turn at once."""
        return self._limit

    @property
    def busy(self) -> int:
        """How many turns are held now."""
        return self._busy

    @property
    def waiting(self) -> int:
        """How many are waiting for a turn (arriving or coming back)."""
        return sum(1 for f in (*self._returning, *self._arriving) if not f.done())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a turn for the block (waiting for one first, in arrival order)."""
        await self._take(self._arriving)
        holder = _Holder(self, asyncio.current_task())
        token = _HELD.set(holder)
        try:
            yield
        finally:
            _HELD.reset(token)
            if holder.held:
                holder.held = False
                self._give()

    async def _take(self, queue: deque[asyncio.Future[None]]) -> None:
        # A free turn means nobody waits: `_give` hands a turn to a waiter as it frees it.
        if self._busy < self._limit:
            self._busy += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if not waiter.cancelled():
                self._give()  # handed a turn just as the wait was canceled: pass it on
            raise

    def _give(self) -> None:
        """Free a turn and hand it on: to the first one coming back, else the first arriving
        (a waiter canceled meanwhile is skipped)."""
        self._busy -= 1
        for queue in (self._returning, self._arriving):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    self._busy += 1
                    waiter.set_result(None)
                    return


@asynccontextmanager
async def away() -> AsyncIterator[None]:
    """Let the current task's turn go for the block (a wait elsewhere); nothing without one.

    Only the task that took the turn gives it away: a task it started inherits the context
    but not the turn.
    """
    holder = _HELD.get()
    if holder is None or not holder.held or holder.task is not asyncio.current_task():
        yield
        return
    holder.held = False
    holder.turns._give()  # noqa: SLF001 - the module's own bookkeeping
    try:
        yield
    finally:
        await holder.turns._take(holder.turns._returning)  # noqa: SLF001
        holder.held = True
