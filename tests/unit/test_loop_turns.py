"""Turns on the event loop (payments/loop_turns.py): how many hold one, in which order, what
`away` gives back, and that a canceled wait neither loses a turn nor gives one twice."""

from __future__ import annotations

import asyncio

import pytest

from payments.loop_turns import LoopTurns, away


async def _settle() -> None:
    """Let every task that can run, run (a few turns of the loop)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def _finish(*tasks: asyncio.Task[None]) -> None:
    """Wait for the tasks to end (a lost turn would keep one waiting for good)."""
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)


class Worker:
    """A task that takes a turn and keeps it until told to let go; logs what it did."""

    def __init__(self, turns: LoopTurns, name: str, log: list[str]) -> None:
        self.done = asyncio.Event()
        self.away = asyncio.Event()
        self.back = asyncio.Event()
        self.task = asyncio.create_task(self._run(turns, name, log))

    async def _run(self, turns: LoopTurns, name: str, log: list[str]) -> None:
        async with turns.turn():
            log.append(f"{name} in")
            if self.away.is_set():
                async with away():
                    log.append(f"{name} away")
                    await self.back.wait()
                log.append(f"{name} back")
            await self.done.wait()
            log.append(f"{name} out")


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        LoopTurns(0)


@pytest.mark.parametrize("limit", [1, 2])
async def test_at_most_the_limit_hold_a_turn_and_the_rest_wait_in_arrival_order(
    limit: int,
) -> None:
    turns = LoopTurns(limit)
    log: list[str] = []
    workers = []
    for name in "abcd":
        workers.append(Worker(turns, name, log))
        await _settle()

    assert log == [f"{n} in" for n in "abcd"[:limit]]
    assert (turns.busy, turns.waiting) == (limit, 4 - limit)
    for worker in workers:
        worker.done.set()
        await _settle()
    await _finish(*(w.task for w in workers))

    entered = [line[0] for line in log if line.endswith(" in")]
    assert entered == list("abcd")
    assert (turns.busy, turns.waiting) == (0, 0)


async def test_one_away_lets_the_next_in_and_comes_back_ahead_of_later_arrivals() -> None:
    turns = LoopTurns(1)
    log: list[str] = []
    first = Worker(turns, "a", log)
    first.away.set()
    await _settle()
    second = Worker(turns, "b", log)  # gets a's turn while a is away
    await _settle()
    third = Worker(turns, "c", log)  # arrives while b holds it
    await _settle()
    assert log == ["a in", "a away", "b in"]

    first.back.set()  # a wants its turn back: it waits for b, then goes before c
    await _settle()
    assert turns.waiting == 2
    second.done.set()
    first.done.set()
    third.done.set()
    await _finish(first.task, second.task, third.task)

    assert log == ["a in", "a away", "b in", "b out", "a back", "a out", "c in", "c out"]
    assert (turns.busy, turns.waiting) == (0, 0)


async def test_away_without_a_turn_does_nothing() -> None:
    turns = LoopTurns(1)
    holder = Worker(turns, "a", [])
    await _settle()
    async with away():  # this task holds no turn: a's stays held
        assert turns.busy == 1
    holder.done.set()
    await _finish(holder.task)
    assert turns.busy == 0


async def test_a_task_started_inside_a_turn_does_not_give_that_turn_away() -> None:
    turns = LoopTurns(1)
    seen: list[int] = []

    async def child() -> None:
        async with away():  # it inherits the context, not the turn
            seen.append(turns.busy)

    async with turns.turn():
        await asyncio.create_task(child())
        seen.append(turns.busy)
    assert seen == [1, 1]
    assert turns.busy == 0


async def test_a_wait_canceled_in_the_queue_loses_no_turn() -> None:
    turns = LoopTurns(1)
    log: list[str] = []
    holder = Worker(turns, "a", log)
    await _settle()
    canceled = Worker(turns, "b", log)
    later = Worker(turns, "c", log)
    await _settle()
    canceled.task.cancel()
    await _settle()
    holder.done.set()
    later.done.set()
    await _finish(holder.task, later.task)

    assert log == ["a in", "a out", "c in", "c out"]
    assert canceled.task.cancelled()
    assert (turns.busy, turns.waiting) == (0, 0)


async def test_a_wait_canceled_just_after_it_was_handed_the_turn_passes_it_on() -> None:
    turns = LoopTurns(1)
    log: list[str] = []
    async with turns.turn():
        handed = Worker(turns, "b", log)
        later = Worker(turns, "c", log)
        await _settle()
    # Leaving the turn handed it to b, whose task has not run since; it is canceled first.
    handed.task.cancel()
    later.done.set()
    await _finish(later.task)

    assert log == ["c in", "c out"]
    assert handed.task.cancelled()
    assert (turns.busy, turns.waiting) == (0, 0)


async def test_a_holder_canceled_while_coming_back_gives_nothing_twice() -> None:
    turns = LoopTurns(1)
    log: list[str] = []
    first = Worker(turns, "a", log)
    first.away.set()
    await _settle()
    second = Worker(turns, "b", log)
    await _settle()
    first.back.set()  # a waits to come back while b holds the turn
    await _settle()
    first.task.cancel()
    await _settle()
    assert first.task.cancelled()
    assert turns.busy == 1  # b's, and only b's

    third = Worker(turns, "c", log)
    await _settle()
    assert turns.waiting == 1  # c waits: the canceled a did not free b's turn
    second.done.set()
    third.done.set()
    await _finish(second.task, third.task)
    assert log == ["a in", "a away", "b in", "b out", "c in", "c out"]
    assert (turns.busy, turns.waiting) == (0, 0)
