"""SQLite on the event loop: an aiosqlite-shaped connection that runs each statement in place.

aiosqlite hands every cursor call to its own thread and waits for the answer: four round trips
per statement (open cursor, execute, fetch, close), each a hand-over of the GIL between a busy
event loop and the worker. `make bench` measured that hand-over, not SQL, as the largest cost of
a bot update and of a payment notification. A SQLite statement on an indexed row takes tens of
microseconds on a file in WAL mode, less than one such hand-over, so this driver runs the
statement on the loop's own thread instead.

What would stall the loop is kept off it:
- waiting for a lock: the connection's busy timeout is zero, and a statement that finds the
  database locked (another process is writing) is retried after an `asyncio.sleep`, backing
  off, until `busy_timeout` has passed; only then does the caller see "database is locked";
- long jobs: set-based sweeps work in chunks and yield to the loop between them.

SQLAlchemy drives it through its aiosqlite dialect (`async_creator`), so models, queries and
sessions are the same as on any other database. PostgreSQL does not use this module.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, Self, TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")

FIRST_BACKOFF = 0.001
LONGEST_BACKOFF = 0.05


def is_busy(error: Exception) -> bool:
    """Tell whether an error means another connection holds the lock (worth a retry).

    Takes pysqlite's error or SQLAlchemy's wrapper around it.
    """
    error = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return (
        isinstance(error, sqlite3.OperationalError)
        and error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    )


async def retry_busy(call: Callable[[], T], patience: float) -> T:
    """Run call(); while the database is locked, sleep on the loop and run it again.

    After `patience` seconds of a locked database the error reaches the caller.
    """
    delay = FIRST_BACKOFF
    deadline: float | None = None
    while True:
        try:
            return call()
        except (sqlite3.OperationalError, OperationalError) as error:
            if not is_busy(error):
                raise
            now = time.monotonic()
            deadline = deadline if deadline is not None else now + patience
            if now >= deadline:
                raise
            await asyncio.sleep(min(delay, deadline - now))
            delay = min(delay * 2, LONGEST_BACKOFF)


class LoopCursor:
    """The cursor half of aiosqlite's interface, done in place."""

    def __init__(self, cursor: sqlite3.Cursor, timeout: float) -> None:
        """Wrap a pysqlite cursor."""
        self._cursor = cursor
        self._timeout = timeout

    async def __aenter__(self) -> Self:
        """Return the cursor itself (aiosqlite opens it here)."""
        return self

    async def __aexit__(self, *_: object) -> None:
        """Close the cursor."""
        self._cursor.close()

    @property
    def description(self) -> Any:
        """Column descriptions of the last statement."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """Row id of the last inserted row."""
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        """Rows fetchmany() returns by default."""
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Self:
        """Execute one statement, waiting for a lock without blocking the loop."""
        await retry_busy(lambda: self._cursor.execute(sql, parameters), self._timeout)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Self:
        """Execute one statement for each parameter set."""
        rows = list(parameters)
        await retry_busy(lambda: self._cursor.executemany(sql, rows), self._timeout)
        return self

    async def fetchone(self) -> Any:
        """Return the next row."""
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Return the next rows."""
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        """Return the remaining rows."""
        return self._cursor.fetchall()

    async def close(self) -> None:
        """Close the cursor."""
        self._cursor.close()


class LoopConnection:
    """The connection half of aiosqlite's interface, done in place."""

    def __init__(self, connection: sqlite3.Connection, timeout: float) -> None:
        """Wrap a pysqlite connection opened with a zero busy timeout."""
        self._conn: sqlite3.Connection | None = connection
        self._timeout = timeout

    @property
    def _connection(self) -> sqlite3.Connection | None:
        # SQLAlchemy's adapter checks aiosqlite's attribute of this name before commit/rollback.
        return self._conn

    @property
    def raw(self) -> sqlite3.Connection:
        """The pysqlite connection itself (db.writes runs compiled writes on it in place)."""
        return self._live()

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        """pysqlite's isolation level (None: we issue BEGIN ourselves)."""
        return self._live().isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None) -> None:
        self._live().isolation_level = value

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self._live().in_transaction

    def cursor(self) -> LoopCursor:
        """Open a cursor."""
        return LoopCursor(self._live().cursor(), self._timeout)

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> LoopCursor:
        """Execute one statement on a new cursor."""
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        """Commit; a commit that finds the database busy can be retried."""
        await retry_busy(self._live().commit, self._timeout)

    async def rollback(self) -> None:
        """Roll back."""
        self._live().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register a SQL function (SQLAlchemy adds regexp)."""
        self._live().create_function(*args, **kwargs)

    async def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def connector(url: URL, timeout: float) -> Callable[[], Any]:
    """Return the async_creator that opens LoopConnections for this SQLite URL."""
    dialect = url.get_dialect()()
    args, params = dialect.create_connect_args(url)
    database = str(args[0])
    uri = bool(params.get("uri", False))

    async def connect() -> LoopConnection:
        connection = sqlite3.connect(
            database, timeout=0, isolation_level=None, check_same_thread=False, uri=uri
        )
        return LoopConnection(connection, timeout)

    return connect
