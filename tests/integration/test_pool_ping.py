"""PostgreSQL's pool pings a connection that sat idle, so a dropped one never fails a request."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from db.engine import create_engine


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_connection_dropped_while_idle_is_replaced_not_failed(database_url: str) -> None:
    """The server drops an idle pooled connection (a restart, an idle timeout): the next
    request gets a live connection and its answer, not a connection error."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the ping on checkout is PostgreSQL's; SQLite has no server to lose")
    engine = create_engine(database_url, ping_idle_seconds=0.0)
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(_dsn(database_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()

        async with engine.connect() as connection:
            second = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()

        assert second != first
    finally:
        await engine.dispose()
