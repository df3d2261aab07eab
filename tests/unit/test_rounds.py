"""The reconcilers' bounded checks: every item once, a few at a time, one failure contained."""

from __future__ import annotations

import asyncio
import logging

import pytest

from payments.rounds import check_bounded


async def test_one_check_that_raises_leaves_the_others_checked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    checked: list[int] = []

    async def check(item: int) -> bool:
        await asyncio.sleep(0)
        if item == 0:
            raise RuntimeError("the database went away")
        checked.append(item)
        return item % 2 == 0

    with caplog.at_level(logging.ERROR, logger="payments.rounds"):
        moved = await check_bounded(list(range(10)), check, parallel=3)

    assert sorted(checked) == list(range(1, 10))  # each of the others exactly once
    assert moved == 4  # 2, 4, 6, 8
    assert "checking 0 failed" in caplog.text


async def test_never_more_than_parallel_checks_run_at_once() -> None:
    running = most = 0
    release, five_started = asyncio.Event(), asyncio.Event()

    async def check(item: int) -> bool:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if running == 5:
            five_started.set()
        await release.wait()
        running -= 1
        return True

    task = asyncio.create_task(check_bounded(list(range(20)), check, parallel=5))
    await asyncio.wait_for(five_started.wait(), 5)
    await asyncio.sleep(0)  # any sixth would have started by now
    release.set()

    assert await task == 20
    assert most == 5
