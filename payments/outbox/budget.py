"""One instance's budget for the messages it sends to Telegram, shared by the lane and the bot.

Telegram allows a bot about 30 messages a second overall (core.telegram.org/bots/faq). Every
message this process sends takes a token of one `Budget`: the sending lane's outbox rows, and
the bot's direct answers to customers' updates (the session middleware in bot/factory.py).
Tokens are evenly spaced, `rate` a second, and an urgent taker (a customer waiting for an
answer, a payment confirmation) is given the next token ahead of every bulk taker (broadcast
rows) already waiting: a reply waits at most about one token interval behind a broadcast.

A lane delivery has its first call paid for already (the lane took the token before starting
it, to pace the chats); `Charge` in the delivery's context says so, and the middleware charges
only the calls after the first.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass

# Time lost to a late timer or a busy loop that the schedule makes up for (by granting the
# missed tokens at once): without it every hiccup of a loaded machine lowers the pace for good.
CATCH_UP_SECONDS = 0.25
WINDOW_SECONDS = 1.0
# ...but spread out: two grants are at least this share of an interval apart (no bursts).
CATCH_UP_GAP = 0.8


@dataclass
class Charge:
    """What a lane delivery's Telegram calls cost: `prepaid` calls are paid already."""

    prepaid: int
    urgent: bool


# Set by the lane in each delivery's task; None outside the lane (a direct answer: urgent).
CHARGE: ContextVar[Charge | None] = ContextVar("outbox_charge", default=None)


class Budget:
    """`rate` tokens a second, evenly spaced; urgent takers are served before bulk ones.

    Tokens missed within the last CATCH_UP_SECONDS are made up for, at most 1/CATCH_UP_GAP
    times the pace; older ones (an idle lane) are not. Whatever happens, no one-second window
    ever holds more than floor(rate) + 1 tokens (as many as strict spacing puts in one): the
    grants of the last second are counted.
    """

    def __init__(self, rate: float) -> None:
        """Hand out `rate` tokens a second (0 or less: no limit)."""
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0  # monotonic time of the next free token
        self._cap = math.floor(rate) + 1 if rate > 0 else 0
        # The last `cap` grants (monotonic): the oldest must be a window ago for one more.
        self._recent: deque[float] = deque(maxlen=max(self._cap, 1))
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._bulk: deque[asyncio.Future[None]] = deque()
        self._granter: asyncio.Task[None] | None = None
        self.granted = 0

    async def take(self, count: int = 1, *, urgent: bool = False) -> None:
        """Wait until `count` tokens are ours; `urgent` goes ahead of every bulk taker."""
        for _ in range(count):
            await self._take_one(urgent=urgent)

    async def _take_one(self, *, urgent: bool) -> None:
        now = time.monotonic()
        if self._interval == 0.0:
            return
        if not self._urgent and not self._bulk and self._free_at() <= now:
            self._grant(now)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._bulk).append(future)
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._hand_out(), name="send-budget")
        await future  # a taker cancelled meanwhile is skipped by the granter

    def _free_at(self) -> float:
        """Return when the next token may be granted: its turn, and room in the window."""
        at = self._next
        if self._recent:
            at = max(at, self._recent[-1] + self._interval * CATCH_UP_GAP)
        if len(self._recent) >= self._cap:
            at = max(at, self._recent[0] + WINDOW_SECONDS)
        return at

    def _grant(self, now: float) -> None:
        self._next = max(self._next, now - CATCH_UP_SECONDS) + self._interval
        self._recent.append(now)
        self.granted += 1

    async def _hand_out(self) -> None:
        """Give each next token to the first urgent taker, else to the first bulk one."""
        while self._urgent or self._bulk:
            wait = self._free_at() - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            queue = self._urgent or self._bulk
            future = queue.popleft()
            if future.done():
                continue
            self._grant(time.monotonic())
            future.set_result(None)


__all__ = ["CHARGE", "Budget", "Charge"]
