"""Async engine and session factory: SQLite in WAL mode, or PostgreSQL through asyncpg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from db.sqlite_loop import connector

SQLITE_BUSY_TIMEOUT_MS = 15_000


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    busy_timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000,
    checkpoint_in_background: bool = False,
) -> AsyncEngine:
    """Create the engine; for SQLite also create the file's folder and set the pragmas.

    `busy_timeout` is how long (seconds) a SQLite statement waits for another process's lock.
    `checkpoint_in_background`: commits never checkpoint the WAL (a db.checkpoint
    WalCheckpointer must run beside the engine).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
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
    )
    _configure_sqlite(engine, autocheckpoint=not checkpoint_in_background)
    return engine


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
