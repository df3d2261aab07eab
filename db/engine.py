"""Async engine and session factory: SQLite in WAL mode, or PostgreSQL through asyncpg."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from db.pool import FairPool
from db.sqlite_loop import connector

SQLITE_BUSY_TIMEOUT_MS = 15_000
# PostgreSQL connections an engine opens at most (settings.DATABASE_POOL_SIZE).
POOL_SIZE = 20
# A pooled PostgreSQL connection back in use after this many idle seconds is pinged first.
PING_IDLE_SECONDS = 10.0


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = POOL_SIZE,
    busy_timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000,
    checkpoint_in_background: bool = False,
    ping_idle_seconds: float = PING_IDLE_SECONDS,
) -> AsyncEngine:
    """Create the engine; for SQLite also create the file's folder and set the pragmas.

    `busy_timeout` is how long (seconds) a SQLite statement waits for another process's lock.
    `checkpoint_in_background`: commits never checkpoint the WAL (a db.checkpoint
    WalCheckpointer must run beside the engine).
    `ping_idle_seconds`: PostgreSQL only, see _ping_when_idle.
    `pool_size`: PostgreSQL only, the connections opened at most. Each is kept once opened, and
    a session finding them all busy waits for one (FairPool, first come first served). With
    10 kept and 10 more opened on demand and closed when handed back, the rush bench opened
    34-46 connections in its minute, in bursts (16 at once when the sale opens), 25-48 ms
    each, while customers waited; with 20 kept, 15-17.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=0, poolclass=FairPool
        )
        _ping_when_idle(engine, ping_idle_seconds)
        return engine
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        echo=echo,
        # Statements run on the event loop itself; see db/sqlite_loop.py for why and how.
        async_creator=connector(parsed, busy_timeout),
        # SQLite has one writer at a time anyway: one connection makes writers queue on the
        # pool, in asyncio, instead of retrying on a locked database. Reads go through
        # db.reader on their own connection.
        pool_size=1,
        max_overflow=0,
        poolclass=FairPool,
    )
    _configure_sqlite(engine, autocheckpoint=not checkpoint_in_background)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it sat idle for `idle_seconds` or more.

    SQLAlchemy's pool_pre_ping pings on every checkout, and asyncpg's ping is three round trips
    (BEGIN, an empty statement, ROLLBACK): in a sale rush, where every step of every customer
    checks a connection out a few times, that was a third of the statements PostgreSQL saw. A
    connection handed back milliseconds ago is as alive as the ping would say; one that sat
    idle (a database restart, a dropped idle connection) is pinged, and replaced if dead, so no
    customer's request meets a dead connection.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # a new connection, or one just used
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool drops this connection and checks out (or opens) another.
            raise DisconnectionError(f"pooled connection dead after idling: {exc}") from exc


def _configure_sqlite(engine: AsyncEngine, *, autocheckpoint: bool) -> None:
    """Take over transaction control so every transaction starts with BEGIN IMMEDIATE.

    pysqlite's implicit BEGIN is DEFERRED: a transaction that reads and then writes fails with
    "database is locked" when another writer got in between, and busy_timeout cannot help.
    Taking the write lock up front makes a writer wait for the lock (db.sqlite_loop retries
    BEGIN without blocking the loop) instead. The connection is opened in autocommit mode
    (isolation_level None), so pysqlite issues no BEGIN of its own.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # In place on the pysqlite connection: the lock is free nearly always, and the driver
        # path (a cursor, SQLAlchemy's execution context) cost more than the BEGIN. A busy
        # database, or any other error, goes the driver's way, which waits without blocking
        # the loop and raises as SQLAlchemy does.
        try:
            connection.connection.driver_connection.raw.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the session factory the use-cases open their transactions with."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def describe(url: str) -> str:
    """Describe a database URL for logs without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {parsed.database}"
    return f"PostgreSQL {parsed.host}:{parsed.port or 5432}/{parsed.database}"
