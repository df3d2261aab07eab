"""Bring the schema to head with the real Alembic migrations.

`python -m db.migrate [URL]` migrates the database at URL, or at `DATABASE_URL` from the environment
(an async SQLAlchemy URL, as settings.py normalises it); `make migrate` reads it from `.env` first.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, describe

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None, *, url: str | None = None) -> Config:
    """Return an Alembic config that points at our migrations and a connection or a URL.

    The URL goes into `attributes`, not the `sqlalchemy.url` option: an ini option would
    interpolate a `%` in the password.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.attributes["url"] = url
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to a revision on the engine's database."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several instances may start at once: one migrates, the others wait for it.
            await connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
        await connection.run_sync(_upgrade, revision)


async def migrate(url: str) -> None:
    """Bring the database at `url` to head on an engine of its own."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    """Migrate the database named on the command line or by DATABASE_URL; exit 2 without one."""
    url = argv[0] if argv else os.environ.get("DATABASE_URL", "")
    if not url:
        sys.stderr.write(
            "configuration error: DATABASE_URL: not set (python -m db.migrate <url>, "
            "or `make migrate`, which reads .env)\n"
        )
        return 2
    asyncio.run(migrate(url))
    sys.stdout.write(f"schema at head on {describe(url)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
