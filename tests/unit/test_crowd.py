"""Notifications yield to a crowd of customers (payments/loop_turns.py `Crowd`): one not yet
started waits while more than the threshold are being answered, goes when they thin out or its
patience runs out; one coming back from YooKassa does not wait; a customer waiting for YooKassa
is not counted."""

from __future__ import annotations

import asyncio

import pytest

from payments.loop_turns import Crowd, LoopTurns, away
from tests.unit.test_loop_turns import Worker, _finish, _settle


class Customer:
    """A task being answered (counted in the crowd) until told it is done."""

    def __init__(self, crowd: Crowd) -> None:
        self.done = asyncio.Event()
        self.task = asyncio.create_task(self._run(crowd))

    async def _run(self, crowd: Crowd) -> None:
        with crowd.serving():
            await self.done.wait()


async def _crowd_of(crowd: Crowd, count: int) -> list[Customer]:
    customers = [Customer(crowd) for _ in range(count)]
    await _settle()
    return customers


def test_a_threshold_below_zero_and_a_negative_patience_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        Crowd(-1)
    with pytest.raises(ValueError, match="patience"):
        LoopTurns(1, crowd=Crowd(), patience=-1)


async def test_an_arrival_waits_while_customers_crowd_and_goes_when_they_thin_out() -> None:
    crowd = Crowd(threshold=1)
    turns = LoopTurns(1, crowd=crowd, patience=60)
    customers = await _crowd_of(crowd, 2)
    assert (crowd.in_flight, crowd.crowded) == (2, True)
    log: list[str] = []
    first, second = Worker(turns, "a", log), Worker(turns, "b", log)
    await _settle()

    assert log == []  # a free turn, but two customers in hand
    assert (turns.busy, turns.waiting) == (0, 2)

    customers[0].done.set()  # one customer left: no longer a crowd
    await _settle()
    assert log == ["a in"]
    first.done.set()
    second.done.set()
    customers[1].done.set()
    await _finish(first.task, second.task, *(c.task for c in customers))
    assert log == ["a in", "a out", "b in", "b out"]
    assert (turns.busy, turns.waiting, crowd.in_flight) == (0, 0, 0)


async def test_a_crowd_holds_an_arrival_back_no_longer_than_its_patience() -> None:
    crowd = Crowd(threshold=0)
    turns = LoopTurns(1, crowd=crowd, patience=0.05)
    customers = await _crowd_of(crowd, 1)
    entered = asyncio.Event()

    async def notification() -> None:
        async with turns.turn():
            entered.set()

    task = asyncio.create_task(notification())
    await _settle()
    assert not entered.is_set()

    async with asyncio.timeout(5):  # the crowd is still there
        await entered.wait()
    assert crowd.crowded
    customers[0].done.set()
    await _finish(task, customers[0].task)


async def test_without_patience_the_crowd_holds_nobody_back() -> None:
    crowd = Crowd(threshold=0)
    turns = LoopTurns(1, crowd=crowd, patience=0)
    customers = await _crowd_of(crowd, 3)
    log: list[str] = []
    worker = Worker(turns, "a", log)
    await _settle()

    assert log == ["a in"]
    worker.done.set()
    for customer in customers:
        customer.done.set()
    await _finish(worker.task, *(c.task for c in customers))


async def test_one_coming_back_from_yookassa_is_not_held_back_by_the_crowd() -> None:
    crowd = Crowd(threshold=0)
    turns = LoopTurns(1, crowd=crowd, patience=60)
    log: list[str] = []
    first = Worker(turns, "a", log)
    first.away.set()
    await _settle()
    assert log == ["a in", "a away"]  # nobody was being answered when it arrived

    customers = await _crowd_of(crowd, 1)
    second = Worker(turns, "b", log)  # arrives into the crowd: waits
    first.back.set()
    await _settle()

    assert log == ["a in", "a away", "a back"]
    first.done.set()
    await _settle()
    assert log[-1] == "a out"  # and b still waits for the crowd to thin out
    assert (turns.busy, turns.waiting) == (0, 1)
    customers[0].done.set()
    second.done.set()
    await _finish(first.task, second.task, customers[0].task)
    assert log[-2:] == ["b in", "b out"]


async def test_a_customer_waiting_for_yookassa_is_not_counted_in_the_crowd() -> None:
    crowd = Crowd(threshold=0)
    turns = LoopTurns(1, crowd=crowd, patience=60)
    log: list[str] = []
    at_yookassa, answered, shown = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def checkout() -> None:
        with crowd.serving():
            async with away():
                at_yookassa.set()
                await answered.wait()
            await shown.wait()  # the pay button being sent

    customer = asyncio.create_task(checkout())
    await at_yookassa.wait()
    assert crowd.in_flight == 0
    worker = Worker(turns, "a", log)  # nobody crowds the loop: goes at once
    await _settle()
    assert log == ["a in"]

    answered.set()
    await _settle()
    assert crowd.in_flight == 1  # back from YooKassa: counted again
    shown.set()
    worker.done.set()
    await _finish(customer, worker.task)
    assert crowd.in_flight == 0


async def test_a_task_started_by_a_customer_does_not_step_them_out() -> None:
    crowd = Crowd()
    inside: list[int] = []

    async def side_job() -> None:
        async with away():
            inside.append(crowd.in_flight)

    with crowd.serving():
        await asyncio.create_task(side_job())
        inside.append(crowd.in_flight)
    assert inside == [1, 1]
    assert crowd.in_flight == 0
