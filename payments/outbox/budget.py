"""One instance's budget for the messages it sends to Telegram, shared by the lane and the bot.

Telegram allows a bot about 30 bulk messages a second (core.telegram.org/bots/faq). The sending
lane's outbox rows take tokens of one `Budget`, evenly spaced, `rate` a second: a payment
confirmation (urgent) is given the next token ahead of every broadcast row already waiting.

The bot's direct answers to customers' own updates (`answer`) are never held up for long. While
a broadcast is being sent, an answer takes the next token ahead of the broadcast's rows, which
is one interval away (34 ms at 29 a second) unless confirmations wait for tokens too, and it
never waits longer than ANSWER_PATIENCE: so a broadcast and a few customers' answers together
keep within the rate. With no broadcast, or once that wait runs out (a sale rush: 2 000
customers a minute need some 250 answers a second, which a 29/s budget would queue for
minutes), the answer goes at once and is counted (`note`), and broadcast rows make room for it.
Confirmations are paced by the lane's own grants only, so a rush cannot starve them.

A lane delivery has its first call paid for already (the lane took the token before starting
it, to pace the chats); `Charge` in the delivery's context says so, and the middleware charges
only the calls after the first.

Telegram counts messages when they arrive, not when a token is granted, and between the two a
delivery task has to be scheduled and build its message: on a loop busy with a sale rush, some
tens of milliseconds that differ from one send to the next. So each token is a `Grant` whose
moment moves to its send (`Grant.sent`, called right before the HTTP request), and the window
counts those moments: a send that went out late keeps the next one a full second behind it.

Even the send's moment is not its arrival: the request is written a turn of the loop later and
crosses the network. A message arrives at the latest when its answer comes back
(`Grant.answered`), so a token also waits until the answer to the send floor(rate) + 1 tokens
before it is a second old. That bounds what Telegram can count in any second by floor(rate) + 1
(30 at 29 a second) whatever the delays, and costs nothing while answers come back within the
34 ms of slack that the schedule leaves (a `make bench` broadcast had 31 in a second once, all of
them its own rows, where this rule was missing).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass, field

# Time lost to a late timer or a busy loop that the schedule makes up for (by granting the
# missed tokens at once): without it every hiccup of a loaded machine lowers the pace for good.
CATCH_UP_SECONDS = 0.25
WINDOW_SECONDS = 1.0
# ...but spread out: two grants are at least this share of an interval apart (no bursts).
CATCH_UP_GAP = 0.8
# The longest a direct answer waits for a token while a broadcast is being sent: a customer
# does not notice it; past it the answer goes anyway (a rush must not queue behind the rate).
ANSWER_PATIENCE = 0.15
# A send not answered within this long is taken to have arrived by then (a hung request must not
# hold up the lane for the whole of its timeout).
SEND_LIMIT = 1.0


class Grant:
    """One token: when it was granted, once its message is sent when that was, and the latest
    moment its message can have arrived."""

    __slots__ = ("arrived_by", "at")

    def __init__(self, at: float) -> None:
        """A token granted at `at` (monotonic). Never sent, its message arrived nowhere: the
        grant's moment stands in for its arrival."""
        self.at = at
        self.arrived_by = at

    def sent(self) -> None:
        """Say the token's message goes now: the window counts it from this moment, and it
        arrives SEND_LIMIT later at the latest, until its answer says better."""
        self.at = max(self.at, time.monotonic())
        self.arrived_by = self.at + SEND_LIMIT

    def answered(self) -> None:
        """Say the send is over (answered, refused or failed): its message arrived by now."""
        self.arrived_by = time.monotonic()


@dataclass
class Charge:
    """What a lane delivery's Telegram calls cost: `prepaid` calls are paid already.

    `grants` are the prepaid tokens, each marked sent when its call goes out.
    """

    prepaid: int
    urgent: bool
    grants: list[Grant] = field(default_factory=list)


# Set by the lane in each delivery's task; None outside the lane (a direct answer: urgent).
CHARGE: ContextVar[Charge | None] = ContextVar("outbox_charge", default=None)


class Budget:
    """`rate` tokens a second, evenly spaced; urgent takers are served before bulk ones.

    Tokens missed within the last CATCH_UP_SECONDS are made up for, at most 1/CATCH_UP_GAP
    times the pace; older ones (an idle lane) are not. Whatever happens, no one-second window
    ever holds more than floor(rate) sends: the last floor(rate) grants are kept with the
    moments their messages went (`Grant.sent`; the grant's own until then), and the next waits
    until the oldest of those is a second old, which is when strict spacing would grant it
    anyway. (It was floor(rate) + 1, what a closed window of strict spacing holds; the
    one token less is room for the time between a grant and the send's arrival at Telegram,
    where a few tens of milliseconds of jitter bunched 29 grants and 2 answers into one second
    of the bench's broadcast.)
    """

    def __init__(self, rate: float) -> None:
        """Hand out `rate` tokens a second (0 or less: no limit)."""
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0  # monotonic time of the next free token
        self._cap = max(math.floor(rate), 1) if rate > 0 else 0
        # The last `cap` grants, at their sends: the oldest must be a window ago for one more.
        self._recent: list[Grant] = []
        # The last `cap` + 1 grants in the order granted: the next waits for the oldest's answer.
        self._granted: deque[Grant] = deque(maxlen=self._cap + 1)
        self._last_grant = -math.inf  # monotonic: the next is spaced from it
        self._urgent: deque[asyncio.Future[Grant]] = deque()
        self._bulk: deque[asyncio.Future[Grant]] = deque()
        self._granter: asyncio.Task[None] | None = None
        # Direct answers of the last second (monotonic), which broadcast rows make room for.
        self._answers: deque[float] = deque()
        # When a broadcast row (a bulk taker) was last granted a token (monotonic).
        self._bulk_granted_at = -math.inf
        self.granted = 0
        self.noted = 0

    def set_rate(self, rate: float) -> None:
        """Hand out `rate` tokens a second from now on: this instance's share, when several
        instances' lanes send (payments/outbox/senders.py). An unlimited budget stays so."""
        if rate <= 0 or self._interval == 0.0 or 1.0 / rate == self._interval:
            return
        self._interval = 1.0 / rate
        self._cap = max(math.floor(rate), 1)
        # The window and the answers' rule keep the newest grants, as many as the new cap asks.
        self._granted = deque(self._granted, maxlen=self._cap + 1)
        while len(self._recent) > self._cap:
            self._recent.remove(min(self._recent, key=lambda g: g.at))

    @property
    def rate(self) -> float:
        """Return the tokens a second handed out now (0: no limit)."""
        return 1.0 / self._interval if self._interval else 0.0

    def note(self) -> None:
        """Count a message sent without waiting (a direct answer): broadcasts make room for it."""
        if self._interval == 0.0:
            return
        now = time.monotonic()
        answers = self._answers
        while answers and answers[0] <= now - WINDOW_SECONDS:  # only the last second counts
            answers.popleft()
        answers.append(now)
        self.noted += 1

    async def answer(self) -> Grant | None:
        """Charge a direct answer to a customer's own update before it is sent.

        While broadcast rows were granted within the last second, the answer takes the next
        token ahead of them, waiting at most ANSWER_PATIENCE, and returns it (the caller marks
        it `sent()` and `answered()`, as a taker's); otherwise (no broadcast, or that wait ran
        out) it goes at once and is counted, and broadcasts make room for it.
        """
        if self._interval and time.monotonic() - self._bulk_granted_at < WINDOW_SECONDS:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ANSWER_PATIENCE):
                    return await self._take_one(urgent=True)
        self.note()
        return None

    async def take(self, count: int = 1, *, urgent: bool = False) -> list[Grant]:
        """Wait until `count` tokens are ours; `urgent` goes ahead of every bulk taker.

        Mark each returned grant `sent()` when its message goes and `answered()` when the
        send is over.
        """
        return [await self._take_one(urgent=urgent) for _ in range(count)]

    async def _take_one(self, *, urgent: bool) -> Grant:
        now = time.monotonic()
        if self._interval == 0.0:
            return Grant(now)
        if not self._urgent and not self._bulk and self._free_at(bulk=not urgent)[0] <= now:
            if not urgent:
                self._bulk_granted_at = now
            return self._grant(now, owed=False)
        future: asyncio.Future[Grant] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._bulk).append(future)
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._hand_out(), name="send-budget")
        return await future  # a taker cancelled meanwhile is skipped by the granter

    def _free_at(self, *, bulk: bool) -> tuple[float, bool]:
        """Return when the next token may be granted, and whether its turn decided that.

        A token needs its turn in the schedule and room in the window; a bulk one also needs
        room beside the direct answers of the last second. The flag is False when the room,
        not the turn, came last.
        """
        turn = max(self._next, self._last_grant + self._interval * CATCH_UP_GAP)
        at = turn
        if len(self._recent) >= self._cap:
            at = max(at, min(grant.at for grant in self._recent) + WINDOW_SECONDS)
        if len(self._granted) > self._cap:
            at = max(at, self._granted[0].arrived_by + WINDOW_SECONDS)
        if bulk and self._answers:
            at = max(at, self._room_beside_answers(time.monotonic()))
        return at, at == turn

    def _room_beside_answers(self, now: float) -> float:
        """Return when the last second's grants and answers leave room for one more send."""
        cutoff = now - WINDOW_SECONDS
        answers = self._answers
        while answers and answers[0] <= cutoff:
            answers.popleft()
        moments = sorted([*(g.at for g in self._recent if g.at > cutoff), *answers])
        excess = len(moments) - self._cap + 1
        return now if excess <= 0 else moments[excess - 1] + WINDOW_SECONDS

    def _grant(self, now: float, *, owed: bool) -> Grant:
        """Grant a token at `now`; `owed`: a taker waited for its turn and got it late.

        Only then is the time lost made up (a late timer, a busy loop). A taker that came to
        an idle budget, or one held back by the window's room, was not late: the schedule
        goes on from now. (Once it went on from `now - CATCH_UP_SECONDS` in every case, so a
        broadcast started a quarter of a second "behind": each second it took its floor(rate)
        tokens 0.8 of an interval apart and then nothing for a fifth of a second, long enough
        for a customer's answer to run out of patience.)
        """
        behind = now - CATCH_UP_SECONDS if owed else now
        self._next = max(self._next, behind) + self._interval
        self._last_grant = now
        grant = Grant(now)
        self._granted.append(grant)
        recent = self._recent
        recent.append(grant)
        if len(recent) > self._cap:  # forget the one sent longest ago, not the first granted
            recent.remove(min(recent, key=lambda g: g.at))
        self.granted += 1
        return grant

    async def _hand_out(self) -> None:
        """Give each next token to the first urgent taker, else to the first bulk one."""
        while self._urgent or self._bulk:
            at, turn = self._free_at(bulk=not self._urgent)
            wait = at - time.monotonic()
            if wait > 0:
                # In steps of one interval at most: an urgent taker arriving meanwhile must not
                # wait out a broadcast row's longer wait for room beside the answers.
                await asyncio.sleep(min(wait, self._interval))
                continue
            queue = self._urgent or self._bulk
            future = queue.popleft()
            if future.done():
                continue
            now = time.monotonic()
            if queue is self._bulk:
                self._bulk_granted_at = now
            future.set_result(self._grant(now, owed=turn))


__all__ = ["CHARGE", "Budget", "Charge", "Grant"]
