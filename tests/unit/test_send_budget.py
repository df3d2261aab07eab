"""The instance's send budget (payments/outbox/budget.py): its cap per second, its priority,
and the pace it keeps through a stalled event loop."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine
from typing import Any

from payments.outbox.budget import ANSWER_PATIENCE, SEND_LIMIT, Budget, Grant
from tests.fakes.telegram_api import busiest_second

# Three intervals at 20 a second: far above a busy machine's usual lateness, far below the
# fifth of a second the cap's hold left each second when the schedule ran "behind".
GAP_LIMIT = 0.15


class RecordedBudget(Budget):
    """A budget that notes when it granted each token (a taker on a busy loop resumes later)."""

    def __init__(self, rate: float) -> None:
        """Hand out `rate` tokens a second, noting each grant."""
        super().__init__(rate)
        self.moments: list[float] = []
        self.answered: list[float] = []

    def _grant(self, now: float, *, owed: bool) -> Grant:
        self.moments.append(now)
        return super()._grant(now, owed=owed)

    def note(self) -> None:
        """Count a direct answer, noting when."""
        super().note()
        self.moments.append(time.monotonic())
        self.answered.append(self.moments[-1])


async def take_for(budget: Budget, seconds: float, *, urgent: bool = False) -> list[float]:
    """Take tokens one after another for `seconds`; return when each was granted."""
    granted: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await budget.take(urgent=urgent)
        granted.append(time.monotonic())
    return granted


async def test_no_second_holds_more_than_the_rate_even_when_the_loop_stalls() -> None:
    budget = RecordedBudget(20.0)
    loop = asyncio.get_running_loop()
    # The loop is blocked twice (a CPU-heavy handler); the takers then crowd in to catch up.
    loop.call_later(0.5, time.sleep, 0.2)
    loop.call_later(1.3, time.sleep, 0.1)
    takers = await asyncio.gather(
        take_for(budget, 2.5), take_for(budget, 2.5), take_for(budget, 2.5, urgent=True)
    )
    assert sum(len(taker) for taker in takers) == len(budget.moments)
    # floor(rate), as strict spacing in a half-open second. Counted when granted: a taker on a
    # machine busy with other work may resume later, which no budget inside the process can
    # prevent.
    assert busiest_second(budget.moments) <= 20, busiest_second(budget.moments)


async def test_a_short_stall_is_made_up_right_after_it() -> None:
    # Strict spacing loses the stalled 0.2 s for good: 16 tokens in the 0.8 s after it at 20 a
    # second. The budget makes the missed ones up, 0.8 of an interval apart (20 in 0.8 s), as
    # far as its cap allows: the second that held the stall had room for them.
    budget = Budget(20.0)
    stalled: list[float] = []

    def stall() -> None:
        time.sleep(0.2)
        stalled.append(time.monotonic())

    asyncio.get_running_loop().call_later(0.5, stall)
    granted = await take_for(budget, 2.0)
    after = [at for at in granted if stalled[0] <= at < stalled[0] + 0.8]
    assert len(after) >= 18, len(after)


async def test_a_broadcast_from_an_idle_budget_is_evenly_spaced() -> None:
    # Started "behind" its schedule, a broadcast took its 20 tokens of each second 40 ms apart
    # and then none for 220 ms: a customer's answer arriving then ran out of patience.
    budget = RecordedBudget(20.0)
    granted = await take_for(budget, 2.5)
    gaps = [later - earlier for earlier, later in itertools.pairwise(granted)]
    assert max(gaps) < GAP_LIMIT, [round(gap, 3) for gap in gaps]
    assert len(granted) >= 48, len(granted)  # and still 20 a second


async def test_after_a_stall_is_made_up_the_pace_is_even_again() -> None:
    # The catch-up after a stall fills the window, whose room then holds the next grant back:
    # that hold is not lateness to make up, or the schedule stays behind for good and every
    # second ends in a gap again.
    budget = RecordedBudget(20.0)
    asyncio.get_running_loop().call_later(0.3, time.sleep, 0.2)
    started = time.monotonic()
    granted = await take_for(budget, 3.0)
    settled = [at for at in granted if at >= started + 1.5]
    gaps = [later - earlier for earlier, later in itertools.pairwise(settled)]
    assert max(gaps) < GAP_LIMIT, [round(gap, 3) for gap in gaps]


async def test_an_urgent_taker_goes_ahead_of_every_bulk_taker_waiting() -> None:
    budget = Budget(50.0)
    order: list[str] = []

    async def taker(name: str, *, urgent: bool) -> None:
        await budget.take(urgent=urgent)
        order.append(name)

    bulk = [asyncio.create_task(taker(f"bulk{n}", urgent=False)) for n in range(10)]
    await asyncio.sleep(0)  # the broadcast's takers wait in line (the first got a token)
    await taker("reply", urgent=True)
    await asyncio.gather(*bulk)
    assert order.index("reply") <= 1, order  # the next token after the one already granted


async def test_a_cancelled_taker_does_not_hold_up_the_others() -> None:
    budget = Budget(50.0)
    await budget.take()
    gone = asyncio.create_task(budget.take())
    await asyncio.sleep(0)
    gone.cancel()
    async with asyncio.timeout(1.0):
        await budget.take(2)


async def test_a_direct_answer_never_waits_and_a_broadcast_makes_room_for_it() -> None:
    budget = Budget(20.0)
    # A sale rush: 30 customers answered within a tenth of a second, more than the rate.
    started = time.monotonic()
    for _ in range(30):
        budget.note()
    # A payment confirmation (urgent) is paced by the lane's own grants only: not held back.
    await budget.take(urgent=True)
    assert time.monotonic() - started < 0.2
    # A broadcast row waits until the last second's answers and grants leave room.
    await budget.take()
    assert time.monotonic() - started >= 0.95


async def test_a_broadcast_yields_to_answers_so_together_they_keep_near_the_rate() -> None:
    budget = RecordedBudget(20.0)

    async def answers() -> None:  # a busy shop: 15 answers a second for three seconds
        for _ in range(45):
            budget.note()
            await asyncio.sleep(1 / 15)

    broadcast = asyncio.create_task(take_for(budget, 3.0))
    await answers()
    sent = await broadcast
    # Answers never wait, so a window may hold a few more than the rate (answers that came
    # after the broadcast's last grant in it), but the broadcast gives way: without it the two
    # made 35 a second, 105 in three seconds.
    assert len(budget.moments) <= 20 * 3 + 21, len(budget.moments)
    assert busiest_second(budget.moments) <= 30, busiest_second(budget.moments)
    assert len(sent) >= 10  # and still goes on with what the answers leave


async def test_answers_are_remembered_for_a_second_only() -> None:
    # A day of answers with no broadcast: the budget keeps the last second's, not all of them.
    budget = Budget(20.0)
    for _ in range(50):
        budget.note()
    await asyncio.sleep(1.05)
    budget.note()
    assert len(budget._answers) == 1  # noqa: SLF001 - what the budget holds in memory
    assert budget.noted == 51


async def test_an_answer_during_a_broadcast_goes_ahead_of_it_and_keeps_the_rate() -> None:
    budget = RecordedBudget(20.0)
    waits: list[float] = []

    async def answers() -> None:  # customers answered 10 times a second for two seconds
        await asyncio.sleep(0.3)
        for _ in range(20):
            asked = time.monotonic()
            await budget.answer()
            waits.append(time.monotonic() - asked)
            await asyncio.sleep(0.1)

    broadcast = asyncio.create_task(take_for(budget, 3.0))
    await answers()
    sent = await broadcast
    # Each answer took the next token ahead of the broadcast: a short wait, never a long one.
    assert max(waits) <= ANSWER_PATIENCE + 0.05, sorted(waits)
    # An answer whose wait ran out (a loop late on a busy machine) goes uncounted by the cap.
    assert budget.noted <= 2, budget.noted
    assert busiest_second(budget.moments) <= 21 + budget.noted, busiest_second(budget.moments)
    assert len(sent) >= 20  # the broadcast goes on with what the answers leave


async def test_with_no_broadcast_answers_never_wait() -> None:
    budget = Budget(20.0)
    started = time.monotonic()
    for _ in range(100):  # a sale rush: far more answers than the rate
        await budget.answer()
    assert time.monotonic() - started < 0.1
    assert (budget.noted, budget.granted) == (100, 0)


async def test_a_rush_during_a_broadcast_waits_at_most_the_patience_then_goes() -> None:
    budget = Budget(20.0)
    broadcast = asyncio.create_task(take_for(budget, 1.5))
    await asyncio.sleep(0.3)

    async def timed() -> float:
        asked = time.monotonic()
        await budget.answer()
        return time.monotonic() - asked

    waits = await asyncio.gather(*(timed() for _ in range(60)))
    await broadcast
    # A few take the next tokens; the rest go once the patience ran out, not at 20 a second.
    assert max(waits) <= ANSWER_PATIENCE + 0.1, max(waits)
    assert budget.noted >= 50, budget.noted


async def spend_for(
    budget: Budget, seconds: float, send: Callable[[int, Grant], Coroutine[Any, Any, None]]
) -> None:
    """Take tokens one after another for `seconds`, each spent by a task: `send(number, grant)`."""
    sending: list[asyncio.Task[None]] = []
    end = time.monotonic() + seconds
    for number in itertools.count():
        if time.monotonic() >= end:
            break
        (grant,) = await budget.take()
        sending.append(asyncio.create_task(send(number, grant)))
    await asyncio.gather(*sending)


async def test_a_send_that_goes_late_is_counted_when_it_goes() -> None:
    # Telegram counts a message when it arrives. A lane's delivery task may start tens of
    # milliseconds after its token on a busy loop: here every fourth one, 150 ms late.
    budget = Budget(10.0)
    sends: list[float] = []

    async def send(number: int, grant: Grant) -> None:
        if number % 4 == 0:
            await asyncio.sleep(0.15)
        grant.sent()
        sends.append(time.monotonic())
        grant.answered()

    await spend_for(budget, 3.0, send)
    # Counted at their tokens, such sends bunch 11 into 0.9 s; the tenth of a second spared is
    # for a busy machine pausing this test between a send's count and its note here.
    assert busiest_second(sends, window=0.9) <= 10, busiest_second(sends)
    assert len(sends) >= 25  # the pace holds: the window only waits for sends that went late


async def test_a_send_that_arrives_late_keeps_telegrams_second_within_the_rate_plus_one() -> None:
    # The network and the loop's next turn put tens of milliseconds between a send and its
    # arrival, differently each time: a stalled loop holds up a few sends in a row. Here three
    # sends in every thirteen take 150 ms to arrive and 10 ms more to be answered; the others
    # arrive at once. Telegram counts arrivals: never more than floor(rate) + 1 of them in a
    # second (30 at 29 a second), whatever the delays.
    budget = Budget(10.0)
    arrivals: list[float] = []

    async def send(number: int, grant: Grant) -> None:
        late = number % 13 < 3
        grant.sent()
        if late:
            await asyncio.sleep(0.15)
        arrivals.append(time.monotonic())
        if late:
            await asyncio.sleep(0.01)
        grant.answered()

    await spend_for(budget, 3.0, send)
    assert busiest_second(arrivals) <= 11, busiest_second(arrivals)
    assert len(arrivals) >= 27  # a late answer holds up one token, not the pace


async def test_a_send_left_unanswered_holds_the_budget_up_for_a_limited_time() -> None:
    # A hung request (no answer until aiogram's timeout) counts as arrived SEND_LIMIT after it
    # went: the token floor(rate) + 1 after it waits that long and a second, not for good.
    budget = Budget(10.0)
    (hung,) = await budget.take()
    hung.sent()
    granted: list[float] = []
    async with asyncio.timeout(5.0):  # not for good
        while len(granted) < 12:
            (grant,) = await budget.take()
            grant.sent()
            grant.answered()
            granted.append(time.monotonic())
    waited = granted[10] - hung.at  # the 11th after the hung one: floor(rate) + 1 tokens on
    # At most 0.7 s late: room for a stalled CI runner, and still short of a limit of twice
    # SEND_LIMIT (3.0 s) or of waiting for the hung send's own timeout (5 s above).
    assert SEND_LIMIT + 1.0 <= waited < SEND_LIMIT + 1.0 + 0.7, waited
    assert granted[11] - granted[10] < 0.6  # and then the pace goes on (not another second)


async def test_a_budget_given_a_smaller_share_keeps_to_it_from_then_on() -> None:
    # A second instance's lane starts: this one's share falls from 20 to 10 a second while it
    # sends; a second later it is alone again.
    budget = RecordedBudget(20.0)
    before = await take_for(budget, 1.0)
    budget.set_rate(10.0)
    changed = time.monotonic()
    shared = await take_for(budget, 2.0)
    budget.set_rate(20.0)
    alone = await take_for(budget, 1.5)
    assert budget.rate == 20.0
    assert busiest_second(before) <= 20
    # The new cap binds within a second of the change: the grants kept are the newest.
    assert busiest_second([m for m in shared if m >= changed + 1.0]) <= 10
    assert 9 <= len([m for m in shared if m >= changed + 1.0]) <= 11
    assert len(alone) >= 25  # the whole rate again
