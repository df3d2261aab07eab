"""Read-only queries by the cheapest path each database has.

aiosqlite moves every cursor call to its worker thread and back, several round trips per
statement; for the screens customers open most (/my, the slot picker) that dominated the
cost of an update. On SQLite a read therefore runs whole in a small thread pool on a plain
pysqlite connection (WAL lets it read beside the writer). On PostgreSQL asyncpg is already
cheap, so reads use the async engine.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Executable

from db.engine import SQLITE_BUSY_TIMEOUT_MS

READ_THREADS = 4


class Reader:
    """Run read-only statements and return their rows."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use the async engine, or a pysqlite twin of it for SQLite."""
        self._engine = engine
        self._sync: Engine | None = None
        self._pool: ThreadPoolExecutor | None = None
        url = engine.url
        if url.get_backend_name() == "sqlite":
            self._sync = create_engine(
                make_url(url).set(drivername="sqlite"),
                pool_size=READ_THREADS,
                max_overflow=0,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            )
            event.listen(self._sync, "connect", _read_pragmas)
            self._pool = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="db-read")

    async def all(self, statement: Executable) -> Sequence[Any]:
        """Return every row of a SELECT."""
        if self._sync is None or self._pool is None:
            async with AsyncSession(self._engine, expire_on_commit=False) as session:
                return (await session.execute(statement)).all()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self._run, statement))

    def _run(self, statement: Executable) -> Sequence[Any]:
        assert self._sync is not None  # noqa: S101 - SQLite only
        with Session(self._sync) as session:
            return session.execute(statement).all()

    def close(self) -> None:
        """Release the pysqlite connections and threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        if self._sync is not None:
            self._sync.dispose()


def _read_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()
