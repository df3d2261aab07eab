"""`/health` reports the database as down while it cannot be written, and up once it can.

Another client holds the write lock (a plain sqlite3 connection with BEGIN IMMEDIATE, or a
row lock on PostgreSQL) for longer than the check's patience; the answer is cached, so the
test moves the check's clock instead of sleeping through the cache time.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from payments.api.app import create_app
from payments.api.health import DatabaseCheck, watch_database

# Generous: a loaded CI machine must not read a slow probe as "down". The flood's one probe
# shares its loop with 49 requests, and pytest-xdist's workers share the cores: 2 s fell short.
PATIENCE = 5.0
TTL = 5.0


class Monotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """Return the current reading."""
        return self.now


@asynccontextmanager
async def write_lock_held(engine: AsyncEngine) -> AsyncIterator[None]:
    """Keep the database from taking writes, from a connection that is not the engine's."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SELECT version_num FROM alembic_version FOR UPDATE")
        try:
            yield
        finally:
            await transaction.rollback()
    finally:
        await connection.close()


async def test_health_says_the_database_is_down_while_it_cannot_be_written(
    engine: AsyncEngine,
) -> None:
    clock = Monotonic()
    probes: list[float] = []

    class CountingCheck(DatabaseCheck):
        async def _probe(self) -> bool:
            probes.append(clock.now)
            return await super()._probe()

    app = create_app()
    watch_database(app, CountingCheck(engine, ttl=TTL, patience=PATIENCE, monotonic=clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        healthy = await client.get("/health")
        assert healthy.status_code == 200
        assert set(healthy.json()) == {"status", "timestamp"}  # the seed's body, unchanged
        assert healthy.json()["status"] == "healthy"

        clock.now += TTL
        async with write_lock_held(engine):
            down = await client.get("/health")
            assert down.status_code == 503, down.text
            body = down.json()
            assert body["status"] == "unhealthy" and body["database"] == "down"
            stamp = datetime.fromisoformat(body["timestamp"])
            assert abs((stamp - datetime.now(UTC)).total_seconds()) < 60
            assert (await client.get("/v1/health")).status_code == 503

        # Released, but the answer holds until the cache time has passed.
        clock.now += TTL - 1
        assert (await client.get("/health")).status_code == 503
        clock.now += 1
        assert (await client.get("/health")).status_code == 200

        # A flood of calls at once asks the database once.
        clock.now += TTL
        before = len(probes)
        flood = await asyncio.gather(*(client.get("/health") for _ in range(50)))
        assert {answer.status_code for answer in flood} == {200}
        assert len(probes) == before + 1

    # The engine is still usable after a probe that gave up (its one SQLite connection too).
    async with engine.begin() as connection:
        await connection.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
