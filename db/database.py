"""Open the database: engine, session factory and reader, with the schema brought to head."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, create_sessionmaker, describe
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

    async def close(self) -> None:
        """Close the reader's connection, then the engine's pool."""
        self.reader.close()
        await self.engine.dispose()


async def create_database(url: str) -> Database:
    """Open the database at `url` and migrate it to head, or raise DatabaseUnavailable."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    except (OSError, SQLAlchemyError) as exc:
        await engine.dispose()
        reason = getattr(exc, "orig", None) or exc
        raise DatabaseUnavailable(f"cannot open {describe(url)}: {reason}") from None
    log.info("database: %s, schema at head", describe(url))
    return Database(engine=engine, sessionmaker=create_sessionmaker(engine), reader=Reader(engine))
