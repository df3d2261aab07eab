"""Writes inside a session's transaction by the cheapest path each database has.

A payment notification's transaction is eight one-row writes (the conditional transition, its
event, the first-paid mark, the subscription's claim, extension and period, the outbox row) and
most of its CPU went to SQLAlchemy's execution pipeline around them (the ORM session's routing,
the execution context, bind processing, the CursorResult), not to SQLite, all of it while the
writer's lock is held and the event loop waits. On SQLite `write` runs a Core INSERT, UPDATE or
DELETE built once with bind parameters as a plan compiled once (db/plan.py) on the very
pysqlite connection of the session's transaction; on PostgreSQL on the asyncpg connection of
the session's transaction (a paying customer of a sale rush makes ten such writes and four
such reads; each took 0.20 and 0.31 ms of the event loop through the session, 0.08 and 0.10
as a plan).

Only what keeps the same meaning takes the short way: a Core statement (no ORM entity, so no
autoflush or session synchronisation would have happened), every value given or a constant
default, no per-call rewriting. Anything else runs through the session as before.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, cast

from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable, Select
from sqlalchemy.sql.dml import UpdateBase

from db.engine import SQLITE_BUSY_TIMEOUT_MS
from db.plan import Plan, plan_for, planned
from db.sqlite_loop import LoopConnection, is_busy, retry_busy

# The session's driver connection, kept in `session.info` with the transaction it serves.
_CONNECTION = "db.writes.connection"


class Written:
    """What a write returns: the rows it changed and the rows of its RETURNING clause."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rowcount: int, rows: Sequence[Any]) -> None:
        """Keep the count and the returned rows."""
        self.rowcount = rowcount
        self.rows = rows

    def one(self) -> Any:
        """Return the one returned row; raise if there is not exactly one."""
        if len(self.rows) != 1:
            raise ValueError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]


async def write(session: AsyncSession, statement: UpdateBase, params: Mapping[str, Any]) -> Written:
    """Run one INSERT, UPDATE or DELETE in the session's transaction; say what it did."""
    plan = _plan(session, statement, params)
    if plan is None:
        return await _through(session, statement, params)
    connection = await _connection(session)
    if not isinstance(connection, sqlite3.Connection):
        return Written(*await _fetch(session, connection, plan, params))
    try:
        try:  # in place: the transaction holds SQLite's write lock already
            return Written(*plan.write(connection, params))
        except (sqlite3.OperationalError, OperationalError) as error:
            if not is_busy(error):
                raise
        return Written(
            *await retry_busy(lambda: plan.write(connection, params), SQLITE_BUSY_TIMEOUT_MS / 1000)
        )
    except sqlite3.Error as error:  # as SQLAlchemy raises it: callers catch IntegrityError
        raise DBAPIError.instance(plan.sql, params, error, sqlite3.Error) from error


@contextlib.asynccontextmanager
async def one_statement(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for a statement that is a transaction on its own, committed on leaving.

    On PostgreSQL it commits by itself (AUTOCOMMIT): no BEGIN and COMMIT, one round trip where
    there were three, each of which waited a turn of a busy loop. On SQLite the session's own
    transaction (the one writer's lock). An exception leaves without committing.
    """
    async with sessionmaker() as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
        await session.commit()


async def write_alone(
    sessionmaker: async_sessionmaker[AsyncSession],
    statement: UpdateBase,
    params: Mapping[str, Any],
) -> Written:
    """Run one INSERT, UPDATE or DELETE as a transaction of its own, committed; say what it did.

    On PostgreSQL (asyncpg) a plan on a pooled connection in AUTOCOMMIT, as `Reader.rows` reads:
    the statement alone, without an ORM session set up and torn down around it (which cost as
    much of the event loop as the statement). Elsewhere (SQLite: its one writer's transaction),
    or for a statement with no plan, `one_statement` and `write`. An error commits nothing.
    """
    bind = sessionmaker.kw.get("bind")
    plan = None
    if isinstance(bind, AsyncEngine) and bind.dialect.name != "sqlite" and planned(bind.dialect):
        plan = plan_for(statement, bind.dialect, params.keys())
    if bind is None or plan is None:
        async with one_statement(sessionmaker) as session:
            return await write(session, statement, params)
    async with _autocommit(bind).connect() as connection:
        return Written(*await plan.fetch_alone(connection, params))


@functools.lru_cache(maxsize=8)
def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's AUTOCOMMIT twin (same pool), made once: making it cost 56 µs a call."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def read(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]
) -> Sequence[Any]:
    """Return the rows of a SELECT of columns as the session's transaction sees them.

    A check inside a write transaction (has this payment been given up on?) reads through
    the transaction's own connection, so it sees the transaction's writes; on SQLite by a plan.
    """
    plan = _plan(session, statement)
    if plan is None:
        return list((await session.execute(statement, params)).all())
    connection = await _connection(session)
    if not isinstance(connection, sqlite3.Connection):
        return (await _fetch(session, connection, plan, params))[1]
    try:
        return plan.run(connection, params)
    except sqlite3.Error as error:
        raise DBAPIError.instance(plan.sql, params, error, sqlite3.Error) from error


async def _fetch(
    session: AsyncSession, adapter: Any, plan: Plan, params: Mapping[str, Any]
) -> tuple[int, list[Any]]:
    """Run a plan on PostgreSQL; a lost connection is invalidated, as SQLAlchemy would."""
    try:
        return await plan.fetch(adapter, params)
    except DBAPIError as error:
        if error.connection_invalidated:
            await (await session.connection()).invalidate(error.orig)
        raise


async def _through(
    session: AsyncSession, statement: UpdateBase, params: Mapping[str, Any]
) -> Written:
    """Run the write the ordinary way, through the session."""
    result = cast("CursorResult[Any]", await session.execute(statement, params))
    return Written(result.rowcount, result.all() if result.returns_rows else [])


def _plan(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None
) -> Plan | None:
    """The statement's plan (a write's for the keys of `params`); None if it has none."""
    bind = session.bind
    if bind is None or not planned(bind.dialect):
        return None
    return plan_for(statement, bind.dialect, None if params is None else params.keys())


async def _connection(session: AsyncSession) -> Any:
    """Return the driver's connection of the session's transaction, beginning it if need be:
    the pysqlite connection, or on PostgreSQL SQLAlchemy's asyncpg adapter (`Plan.fetch`)."""
    sync = session.sync_session
    kept = sync.info.get(_CONNECTION)
    transaction = sync.get_transaction()
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    found = driver.raw if isinstance(driver, LoopConnection) else raw.dbapi_connection
    sync.info[_CONNECTION] = (sync.get_transaction(), found)
    return found
