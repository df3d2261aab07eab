"""Bring the schema to head with the real Alembic migrations.

`python -m db.migrate [URL]` migrates the database at URL, or at `DATABASE_URL` from the environment
(an async SQLAlchemy URL, as settings.py normalises it); `make migrate` reads it from `.env` first.
"""

from __future__ import annotations

import ast
import asyncio
import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, describe

if TYPE_CHECKING:  # Alembic is imported only when there is something to migrate
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None, *, url: str | None = None) -> Config:
    """Return an Alembic config that points at our migrations and a connection or a URL.

    The URL goes into `attributes`, not the `sqlalchemy.url` option: an ini option would
    interpolate a `%` in the password.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.attributes["url"] = url
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def _assigned(tree: ast.Module, name: str) -> object:
    """Return the literal a module assigns to `name` (annotated or not), or None."""
    for node in tree.body:
        if isinstance(node, ast.AnnAssign):
            targets: list[ast.expr] = [node.target]
            value = node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        if value is not None and any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.literal_eval(value)
    return None


@cache
def head_revision() -> str | None:
    """Return the one head of our migrations, read from the files without importing Alembic.

    None when there is not exactly one head (a branch to merge): then Alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        revision = _assigned(tree, "revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        down = _assigned(tree, "down_revision")
        parents.update([down] if isinstance(down, str) else down or ())  # type: ignore[arg-type]
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def at_head(engine: AsyncEngine) -> bool:
    """Say whether the database's schema is already at the migrations' one head.

    One SELECT: a restart of a migrated service does not load Alembic (0.3 s, 9 MiB).
    """
    head = head_revision()
    if head is None:
        return False
    try:
        async with engine.connect() as connection:
            stamped = (
                (await connection.exec_driver_sql("SELECT version_num FROM alembic_version"))
                .scalars()
                .all()
            )
    except DBAPIError:  # no alembic_version table yet: a new database
        return False
    return list(stamped) == [head]


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to a revision on the engine's database."""
    if revision == "head" and await at_head(engine):
        return
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
