"""SQLite on the event loop: a locked database is waited for without stalling the loop.

Another process (here: a plain sqlite3 connection) holds the write lock. A write through the
engine must wait until it is released while the loop keeps serving other coroutines, must
give up with "database is locked" once its patience runs out, and reads must not wait at all.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.models import User
from db.reader import Reader

pytestmark = pytest.mark.sqlite_only


@contextmanager
def write_lock_held(engine: AsyncEngine) -> Iterator[sqlite3.Connection]:
    """Hold SQLite's write lock on the engine's file from a connection of our own."""
    other = sqlite3.connect(str(Path(engine.url.database or "")), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute(
        "INSERT INTO users (id, first_name, language, created_at) "
        "VALUES ('other', 'O', 'ru', '2030-01-01 00:00:00')"
    )
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def _insert(engine: AsyncEngine, user_id: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, first_name, language, created_at) "
                "VALUES (:id, 'W', 'ru', '2030-01-01 00:00:00')"
            ),
            {"id": user_id},
        )


async def test_a_writer_waits_for_the_lock_while_the_loop_keeps_running(
    engine: AsyncEngine,
) -> None:
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    with write_lock_held(engine) as other:
        write = asyncio.create_task(_insert(engine, "waiting"))
        await asyncio.sleep(0.3)
        assert not write.done()  # still waiting for the lock...
        assert ticks >= 10  # ...and the loop went on meanwhile
        other.execute("COMMIT")
        await asyncio.wait_for(write, 5)
    beat.cancel()
    reader = Reader(engine)
    try:
        ids = {row[0] for row in await reader.rows(select(User.id), {})}
    finally:
        reader.close()
    assert {"other", "waiting"} <= ids


async def test_a_writer_gives_up_when_its_patience_runs_out(engine: AsyncEngine) -> None:
    impatient = create_engine(engine.url.render_as_string(hide_password=False), busy_timeout=0.2)
    try:
        with write_lock_held(engine):
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                await _insert(impatient, "impatient")
            assert 0.15 < time.monotonic() - started < 2
    finally:
        await impatient.dispose()


async def test_reads_do_not_wait_for_a_writer(engine: AsyncEngine) -> None:
    await _insert(engine, "committed")
    reader = Reader(engine)
    try:
        with write_lock_held(engine):
            started = time.monotonic()
            ids = {row[0] for row in await reader.rows(select(User.id), {})}
            assert time.monotonic() - started < 0.1
    finally:
        reader.close()
    assert "committed" in ids and "other" not in ids  # the writer's row is not committed
