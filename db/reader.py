"""Read-only queries by the cheapest path each database has.

The screens customers open most (/my, the slot picker) and the lookup at the start of every
payment notification read one or two indexed rows. On SQLite such a read runs in place on the
event loop, on a plain pysqlite connection of its own (WAL lets it read beside the writer, and
it never waits for the writer): cheaper than handing it to any thread, see db/sqlite_loop.py.
On PostgreSQL reads use the async engine's pool; a statement built once runs as a plan on
asyncpg (db/plan.py), without SQLAlchemy's execution pipeline.

Long reads (the admin's reports: /stats aggregates over a month of payments, /export of every
row) must not hold the loop for their duration. `report` and `stream` run them, on SQLite, in a
worker thread on a pysqlite connection opened for that read alone (WAL: it reads a snapshot
beside the writer; pysqlite lets go of the GIL while SQLite works); on PostgreSQL through
asyncpg, whose waits are awaits, with `stream` reading a server-side cursor in chunks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlalchemy.sql import Executable

from db.engine import SQLITE_BUSY_TIMEOUT_MS
from db.plan import plan_for, planned
from db.sqlite_loop import is_busy, retry_busy

# Rows a long read hands over at a time: a few hundred kilobytes of CSV, a few ms of work.
STREAM_CHUNK = 2000


class Reader:
    """Run read-only statements and return their rows."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use the async engine, or a pysqlite twin of it for SQLite."""
        self._engine = engine
        # One-statement reads on PostgreSQL run without a transaction: BEGIN and ROLLBACK
        # around a single SELECT were two of its three round trips.
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sync: Engine | None = None
        self._connection: Connection | None = None
        self._dbapi: Any = None  # the pysqlite connection inside `_connection`
        self._long: Engine | None = None
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
            # Long reads: a fresh connection per read, used by one worker thread, then closed.
            self._long = create_engine(
                make_url(url).set(drivername="sqlite"),
                poolclass=NullPool,
                connect_args={
                    "check_same_thread": False,
                    "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,  # waits in its thread, not the loop
                },
                isolation_level="AUTOCOMMIT",
            )
            event.listen(self._long, "connect", _read_pragmas)

    async def all(self, statement: Executable) -> Sequence[Any]:
        """Return every row of a SELECT, with mapped objects where it selects entities."""
        if self._sync is None:
            async with AsyncSession(self._single, expire_on_commit=False) as session:
                return (await session.execute(statement)).all()
        return await retry_busy(lambda: self._objects(statement), SQLITE_BUSY_TIMEOUT_MS / 1000)

    async def rows(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        """Return the rows of a SELECT of columns, without the ORM session (cheaper).

        Meant for statements built once with bind parameters: building a statement costs
        more than running it. Such a statement is compiled once (db/plan.py) and runs on the
        driver's connection: pysqlite's in place, asyncpg's checked out of the pool.
        """
        if self._sync is None:
            dialect = self._engine.dialect
            plan = plan_for(statement, dialect) if planned(dialect) else None
            async with self._single.connect() as connection:
                if plan is None:
                    return (await connection.execute(statement, params)).all()
                return (await plan.fetch_alone(connection, params))[1]
        try:  # in place, without a coroutine per attempt: the database is rarely locked
            return self._columns(statement, params)
        except (sqlite3.OperationalError, OperationalError) as error:
            if not is_busy(error):
                raise
        return await retry_busy(
            lambda: self._columns(statement, params), SQLITE_BUSY_TIMEOUT_MS / 1000
        )

    async def report(self, build: Callable[[], Sequence[Executable]]) -> list[Sequence[Any]]:
        """Run a few set-based SELECTs (aggregates over many rows); return each one's rows.

        `build` makes the statements; it runs in a worker thread too, since building a dozen
        statements with SQLAlchemy costs tens of milliseconds of CPU. On SQLite the statements
        run one after another in that thread on a connection of their own, inside one read
        transaction, so they see the same snapshot.
        """
        if self._long is None:
            statements = await asyncio.to_thread(build)
            async with self._engine.connect() as connection:
                return [(await connection.execute(s)).all() for s in statements]
        return await asyncio.to_thread(self._report, self._long, build)

    async def stream(
        self,
        statement: Executable,
        sink: Callable[[Sequence[Any]], None],
        *,
        chunk: int = STREAM_CHUNK,
    ) -> int:
        """Hand the rows of a SELECT to `sink`, `chunk` rows at a time; return how many.

        `sink` always runs in a worker thread (it may do CPU work, such as writing CSV), and no
        more than one chunk is in memory at once. SQLite: the whole read runs in that thread on
        its own connection. PostgreSQL: a server-side cursor, each chunk fetched with an await.
        """
        if self._long is None:
            count = 0
            async with self._engine.connect() as connection:
                result = await connection.stream(statement.execution_options(yield_per=chunk))
                async for rows in result.partitions(chunk):
                    await asyncio.to_thread(sink, rows)
                    count += len(rows)
            return count
        return await asyncio.to_thread(self._stream, self._long, statement, sink, chunk)

    @staticmethod
    def _report(engine: Engine, build: Callable[[], Sequence[Executable]]) -> list[Sequence[Any]]:
        statements = build()
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN")  # one snapshot for every statement
            try:
                return [connection.execute(s).all() for s in statements]
            finally:
                connection.exec_driver_sql("COMMIT")

    @staticmethod
    def _stream(
        engine: Engine,
        statement: Executable,
        sink: Callable[[Sequence[Any]], None],
        chunk: int,
    ) -> int:
        count = 0
        with engine.connect() as connection:
            result = connection.execute(statement.execution_options(yield_per=chunk))
            for rows in result.partitions(chunk):
                sink(rows)
                count += len(rows)
        return count

    def _objects(self, statement: Executable) -> Sequence[Any]:
        with self._connected() as connection, Session(connection) as session:
            return session.execute(statement).all()

    def _columns(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        assert self._sync is not None  # noqa: S101 - SQLite only
        plan = plan_for(statement, self._sync.dialect)
        if plan is None:
            with self._connected() as connection:
                return connection.execute(statement, params).all()
        if self._dbapi is None:
            self._connect()
        try:
            return plan.run(self._dbapi, params)
        except Exception as error:
            if not is_busy(error):
                self._drop()
            if isinstance(error, sqlite3.Error):  # as SQLAlchemy raises it: callers catch that
                raise DBAPIError.instance(plan.sql, params, error, sqlite3.Error) from error
            raise

    @contextmanager
    def _connected(self) -> Iterator[Connection]:
        """Lend the one connection, which stays checked out between reads.

        Checking a connection out of the pool and back per read cost as much as the read. It is
        in autocommit mode, so no read transaction outlives its statement (a long one would stop
        WAL checkpoints). A read that fails for any reason other than a busy database drops it.
        """
        connection = self._connect()
        try:
            yield connection
        except Exception as error:
            if not is_busy(error):
                self._drop()
            raise

    def _connect(self) -> Connection:
        if self._connection is None:
            assert self._sync is not None  # noqa: S101 - SQLite only
            self._connection = self._sync.connect()
            self._dbapi = self._connection.connection.dbapi_connection
        return self._connection

    def _drop(self) -> None:
        self._dbapi = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Release the pysqlite connection."""
        self._drop()
        if self._sync is not None:
            self._sync.dispose()
        if self._long is not None:
            self._long.dispose()


def _read_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()
