"""Customers' answers first: YooKassa's notifications take turns on the event loop.

One process answers customers' updates and applies payment notifications on one event loop. In
a sale rush (`make bench`'s rush: 2 000 customers in a minute, 500 of them paying in the first
twenty seconds) both arrive faster than one core serves them, and every notification in hand
(its transactions, the capture, the tickets, the customer's notes) took the loop and pooled
connections from customers waiting for their next screen: on PostgreSQL the p99 of their
answers was 1-2.4 s, the checkout's median 1.6 s. Applying a notification sooner mostly makes
nobody's screen come sooner: its customer is told through the sending lane, which Telegram's
budget paces anyway (payments/outbox/budget.py). On a slow minute of the host it is the other
way round in the sale's first seconds, and the customers' answers are still put first.

So notifications take turns (`LoopTurns.turn`): at most `limit` of them run at a time (the
WEBHOOK_CONCURRENCY setting, 1 by default) and the others wait in arrival order. While one
waits for YooKassa (its re-fetch, the capture: every gateway call goes through `away`) it lets
its turn go, so a slow YooKassa holds nobody up, and it takes the turn back ahead of the
notifications that have not started. A notification waiting for its turn keeps its HTTP request
open; one kept past YooKassa's patience is posted again, and that post waits for the payment's
own lock (payments/yookassa/webhook.py) and then finds it settled.

Turns alone still let a notification run beside a queue of customers: one at a time, but each
of its steps takes the loop as often as a customer's. With a `Crowd` (the customers' updates
and API requests being answered right now), a notification that has not started also waits
while more than `Crowd.threshold` customers are being answered, up to `patience` seconds
(WEBHOOK_YIELD_SECONDS) after it arrived; then it takes the next free turn whatever the crowd.
A customer waiting for YooKassa (a checkout's payment being created) is not counted meanwhile:
`away` steps them out, as it gives a notification's turn back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

# More customers than this being answered at once is a crowd: the loop has a queue of theirs.
# At 2-8 ms of the loop per update, 3 in hand is what a service keeping up has now and then.
CROWD_THRESHOLD = 3


class _Holder:
    """The turn a task holds: given back while it is away, taken back after."""

    __slots__ = ("held", "task", "turns")

    def __init__(self, turns: LoopTurns, task: asyncio.Task[object] | None) -> None:
        self.turns = turns
        self.task = task
        self.held = True


class _Member:
    """A customer being answered: counted in the crowd, except while away."""

    __slots__ = ("crowd", "inside", "task")

    def __init__(self, crowd: Crowd, task: asyncio.Task[object] | None) -> None:
        self.crowd = crowd
        self.task = task
        self.inside = True


# How long after an arrival's due time its timer hands the turn out (see `_next`).
_LATE = 0.001

_HELD: ContextVar[_Holder | None] = ContextVar("loop_turn", default=None)
_SERVED: ContextVar[_Member | None] = ContextVar("crowd_member", default=None)


class Crowd:
    """How many customers' updates and API requests are being answered right now."""

    def __init__(self, threshold: int = CROWD_THRESHOLD) -> None:
        """A crowd is more than `threshold` (at least 0) at once."""
        if threshold < 0:
            raise ValueError("threshold: at least 0")
        self._threshold = threshold
        self._in_flight = 0
        self._eased: list[Callable[[], None]] = []

    @property
    def threshold(self) -> int:
        """How many may be answered at once before it is a crowd."""
        return self._threshold

    @property
    def in_flight(self) -> int:
        """How many are being answered now (not counting those away, waiting for YooKassa)."""
        return self._in_flight

    @property
    def crowded(self) -> bool:
        """Whether more than `threshold` are being answered now."""
        return self._in_flight > self._threshold

    def when_eased(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever someone leaves and it is no longer a crowd."""
        self._eased.append(callback)

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Count the current task's customer for the block (an update, an API request)."""
        member = _Member(self, asyncio.current_task())
        token = _SERVED.set(member)
        self._enter()
        try:
            yield
        finally:
            _SERVED.reset(token)
            if member.inside:
                member.inside = False
                self._leave()

    def _enter(self) -> None:
        self._in_flight += 1

    def _leave(self) -> None:
        self._in_flight -= 1
        if not self.crowded:
            for callback in self._eased:
                callback()


class LoopTurns:
    """At most `limit` holders at a time; those coming back from `away` go first, and with a
    `crowd`, those arriving wait while it is crowded (up to `patience` seconds)."""

    def __init__(self, limit: int, *, crowd: Crowd | None = None, patience: float = 0.0) -> None:
        """Allow `limit` (at least 1) holders at once; yield to `crowd` for up to `patience`
        seconds (0: not at all)."""
        if limit < 1:
            raise ValueError("limit: at least 1")
        if patience < 0:
            raise ValueError("patience: at least 0")
        self._limit = limit
        self._busy = 0
        self._returning: deque[asyncio.Future[None]] = deque()
        # Each arrival with the loop time after which it goes whatever the crowd.
        self._arriving: deque[tuple[asyncio.Future[None], float]] = deque()
        self._crowd = crowd
        self._patience = patience
        if self._crowd is not None:
            self._crowd.when_eased(self._hand)

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
        back = sum(1 for f in self._returning if not f.done())
        return back + sum(1 for f, _ in self._arriving if not f.done())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a turn for the block (waiting for one first, in arrival order)."""
        await self._take(returning=False)
        holder = _Holder(self, asyncio.current_task())
        token = _HELD.set(holder)
        try:
            yield
        finally:
            _HELD.reset(token)
            if holder.held:
                holder.held = False
                self._give()

    async def _take(self, *, returning: bool) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if returning:
            self._returning.append(waiter)
        else:
            self._arriving.append((waiter, loop.time() + self._patience))
        self._hand()
        if waiter.done():
            return  # a free turn, nobody ahead: taken without a pass of the loop
        if not returning and self._crowd is not None and self._patience > 0:
            # Held back by the crowd: go at the latest when its patience runs out.
            loop.call_later(self._patience + _LATE, self._hand)
        try:
            await waiter
        except asyncio.CancelledError:
            if not waiter.cancelled():
                self._give()  # handed a turn just as the wait was canceled: pass it on
            raise

    def _give(self) -> None:
        """Free a turn and hand it on."""
        self._busy -= 1
        self._hand()

    def _hand(self) -> None:
        """Hand free turns on: to those coming back first, then to those arriving in order,
        unless the crowd holds them back (an arrival past its patience goes anyway). A waiter
        canceled meanwhile is skipped."""
        while self._busy < self._limit:
            waiter = self._next()
            if waiter is None:
                return
            self._busy += 1
            waiter.set_result(None)

    def _next(self) -> asyncio.Future[None] | None:
        while self._returning:
            waiter = self._returning.popleft()
            if not waiter.done():
                return waiter
        while self._arriving:
            waiter, due = self._arriving[0]
            if waiter.done():
                self._arriving.popleft()
                continue
            if self._crowd is not None and self._crowd.crowded and waiter.get_loop().time() < due:
                return None  # (a timer's callback may run up to the clock's resolution early:
                # _take's timer is set `_LATE` after the due time)
            self._arriving.popleft()
            return waiter
        return None


@asynccontextmanager
async def away() -> AsyncIterator[None]:
    """Step out for the block (a wait elsewhere: YooKassa): the current task's turn is let go,
    and its customer no longer counts in the crowd; nothing for a task with neither.

    Only the task that took the turn (or began serving the customer) steps out: a task it
    started inherits the context but not the turn.
    """
    task = asyncio.current_task()
    holder = _HELD.get()
    if holder is None or not holder.held or holder.task is not task:
        holder = None
    member = _SERVED.get()
    if member is None or not member.inside or member.task is not task:
        member = None
    if member is not None:
        member.inside = False
        member.crowd._leave()  # noqa: SLF001 - the module's own bookkeeping
    if holder is not None:
        holder.held = False
        holder.turns._give()  # noqa: SLF001
    try:
        yield
    finally:
        if member is not None:
            member.inside = True
            member.crowd._enter()  # noqa: SLF001
        if holder is not None:
            await holder.turns._take(returning=True)  # noqa: SLF001
            holder.held = True
