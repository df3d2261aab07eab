"""Read-only queries by the cheapest path each database has.

The screens customers open most (/my, the slot picker) and the lookup at the start of every
payment notification read one or two indexed rows. On SQLite such a read runs in place on the
event loop, on a plain pysqlite connection of its own (WAL lets it read beside the writer, and
it never waits for the writer): cheaper than handing it to any thread, see db/sqlite_loop.py.
On PostgreSQL asyncpg is already cheap, so reads use the async engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Executable

from db.engine import SQLITE_BUSY_TIMEOUT_MS
from db.sqlite_loop import is_busy, retry_busy


class Reader:
    """Run read-only statements and return their rows."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use the async engine, or a pysqlite twin of it for SQLite."""
        self._engine = engine
        self._sync: Engine | None = None
        self._connection: Connection | None = None
        url = engine.url
        if url.get_backend_name() == "sqlite":
            # One connection is enough: a read runs to its end before the loop does anything else.
            self._sync = create_engine(
                make_url(url).set(drivername="sqlite"),
                pool_size=1,
                max_overflow=0,
                connect_args={"check_same_thread": False, "timeout": 0},
                isolation_level="AUTOCOMMIT",
            )
            event.listen(self._sync, "connect", _read_pragmas)

    async def all(self, statement: Executable) -> Sequence[Any]:
        """Return every row of a SELECT, with mapped objects where it selects entities."""
        if self._sync is None:
            async with AsyncSession(self._engine, expire_on_commit=False) as session:
                return (await session.execute(statement)).all()
        return await retry_busy(lambda: self._objects(statement), SQLITE_BUSY_TIMEOUT_MS / 1000)

    async def rows(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        """Return the rows of a SELECT of columns, without the ORM session (cheaper).

        Meant for statements built once with bind parameters: building a statement costs
        more than running it.
        """
        if self._sync is None:
            async with self._engine.connect() as connection:
                return (await connection.execute(statement, params)).all()
        return await retry_busy(
            lambda: self._columns(statement, params), SQLITE_BUSY_TIMEOUT_MS / 1000
        )

    def _objects(self, statement: Executable) -> Sequence[Any]:
        with self._connected() as connection, Session(connection) as session:
            return session.execute(statement).all()

    def _columns(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        with self._connected() as connection:
            return connection.execute(statement, params).all()

    @contextmanager
    def _connected(self) -> Iterator[Connection]:
        """Lend the one connection, which stays checked out between reads.

        Checking a connection out of the pool and back per read cost as much as the read. It is
        in autocommit mode, so no read transaction outlives its statement (a long one would stop
        WAL checkpoints). A read that fails for any reason other than a busy database drops it.
        """
        if self._connection is None:
            assert self._sync is not None  # noqa: S101 - SQLite only
            self._connection = self._sync.connect()
        try:
            yield self._connection
        except Exception as error:
            if not is_busy(error):
                self._drop()
            raise

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Release the pysqlite connection."""
        self._drop()
        if self._sync is not None:
            self._sync.dispose()


def _read_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()
