"""The writer connection goes to whoever has waited longest.

On SQLite every write shares one pooled connection. SQLAlchemy's asyncio pool let a task that
asked just as the connection came back take it ahead of those already waiting, who went back
in line at the end: under a stream of payment notifications some waited half a second while
most waited milliseconds. These tests hold the connection, line writers up, and look at who
gets it next.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.engine import create_engine
from db.pool import FairPool

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite engine: one writer connection, as the service has."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE turns (who TEXT)"))
    yield engine
    await engine.dispose()


async def _write(engine: AsyncEngine, who: str, order: list[str]) -> None:
    async with engine.begin() as connection:
        order.append(who)
        await connection.execute(text("INSERT INTO turns VALUES (:who)"), {"who": who})


def _waiting(engine: AsyncEngine) -> int:
    queue = engine.pool._pool  # type: ignore[attr-defined]
    return int(queue.waiting())


async def _lined_up(engine: AsyncEngine, count: int) -> None:
    """Wait until `count` tasks wait for the connection (each needs a turn of the loop)."""
    for _ in range(1000):
        if _waiting(engine) >= count:
            return
        await asyncio.sleep(0)
    pytest.fail(f"{count} writers never lined up")


async def test_a_writer_that_asks_again_goes_behind_those_waiting(writer: AsyncEngine) -> None:
    order: list[str] = []
    connection = await writer.connect()
    order.append("first")
    waiting = [asyncio.create_task(_write(writer, f"waiter {n}", order)) for n in (1, 2)]
    await _lined_up(writer, 2)
    await connection.close()
    # The same task asks again at once, before the woken waiter has run: it must not cut in.
    await _write(writer, "first again", order)
    await asyncio.gather(*waiting)
    assert order == ["first", "waiter 1", "waiter 2", "first again"]
    async with writer.connect() as check:
        stored = (await check.execute(text("SELECT who FROM turns"))).scalars().all()
    assert stored == ["waiter 1", "waiter 2", "first again"]


async def test_a_waiter_that_gives_up_as_it_is_served_passes_the_connection_on(
    writer: AsyncEngine,
) -> None:
    order: list[str] = []
    connection = await writer.connect()
    impatient = asyncio.create_task(_write(writer, "impatient", order))
    patient = asyncio.create_task(_write(writer, "patient", order))
    await _lined_up(writer, 2)
    await connection.close()  # handed to `impatient`, which has not run yet…
    impatient.cancel()  # …and is cancelled before it does
    async with asyncio.timeout(5):
        await patient
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert order == ["patient"]
    await _write(writer, "later", order)  # the connection is still in the pool
    assert order == ["patient", "later"]


async def test_a_waiter_cancelled_in_line_leaves_the_line(writer: AsyncEngine) -> None:
    order: list[str] = []
    connection = await writer.connect()
    gone = asyncio.create_task(_write(writer, "gone", order))
    staying = asyncio.create_task(_write(writer, "staying", order))
    await _lined_up(writer, 2)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    await connection.close()
    async with asyncio.timeout(5):
        await staying
    assert order == ["staying"]
    assert _waiting(writer) == 0


async def test_a_waiter_past_the_pool_timeout_gets_an_error_and_leaves_the_line(
    tmp_path: Path,
) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'timeout.db'}",
        poolclass=FairPool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
    )
    held = await engine.connect()
    with pytest.raises(PoolTimeout):
        async with asyncio.timeout(5):
            await engine.connect()
    assert _waiting(engine) == 0
    await held.close()
    async with asyncio.timeout(5), engine.connect() as again:
        assert (await again.execute(text("SELECT 1"))).scalar() == 1
    await engine.dispose()
