"""Open the database: engine, session factory and reader, with the schema brought to head."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.checkpoint import WalCheckpointer
from db.engine import POOL_SIZE, create_engine, create_sessionmaker, describe
from db.migrate import upgrade
from db.reader import Reader

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database cannot be opened or migrated; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Database:
    """The open database: what use-cases write through and what cheap reads go through."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    reader: Reader
    # SQLite files only: the WAL checkpoints, kept out of commits on the event loop.
    checkpointer: WalCheckpointer | None = None

    async def close(self) -> None:
        """Close the reader's connection, then the engine's pool, then checkpoint once more."""
        self.reader.close()
        await self.engine.dispose()
        if self.checkpointer is not None:
            await self.checkpointer.close()


async def create_database(url: str, *, pool_size: int = POOL_SIZE) -> Database:
    """Open the database at `url` and migrate it to head, or raise DatabaseUnavailable.

    `pool_size`: PostgreSQL connections opened at most (db/engine.py `create_engine`).
    """
    path = _sqlite_file(url)
    engine = create_engine(url, checkpoint_in_background=path is not None, pool_size=pool_size)
    try:
        await upgrade(engine)
    except (OSError, SQLAlchemyError) as exc:
        await engine.dispose()
        reason = getattr(exc, "orig", None) or exc
        raise DatabaseUnavailable(f"cannot open {describe(url)}: {reason}") from None
    log.info("database: %s, schema at head", describe(url))
    checkpointer = None
    if path is not None:
        checkpointer = WalCheckpointer(path)
        checkpointer.start()
    return Database(
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        reader=Reader(engine),
        checkpointer=checkpointer,
    )


def _sqlite_file(url: str) -> str | None:
    """Return the SQLite file a URL names, or None (another database, or in memory)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    return str(Path(database).expanduser())
