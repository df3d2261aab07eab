"""A restart skips Alembic only when the schema is really at head; a behind one is migrated."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import alembic_config, at_head, head_revision, upgrade


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _stamped(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        return list(result.scalars())


# A new database is needed: PostgreSQL's fixture hands out a clone of a migrated template (and
# every service start in the PostgreSQL suite goes through at_head on it).
@pytest.mark.sqlite_only
async def test_a_database_behind_head_is_migrated_and_one_at_head_is_left_alone(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        assert not await at_head(engine)  # a new database: no alembic_version yet
        await upgrade(engine, "0005")
        assert await _stamped(engine) == ["0005"]
        assert not await at_head(engine)
        await upgrade(engine)  # the start-up path: finds it behind and migrates
        assert await _stamped(engine) == [head_revision()]
        assert await at_head(engine)
        await upgrade(engine)  # at head: one SELECT, nothing else
        assert await _stamped(engine) == [head_revision()]
    finally:
        await engine.dispose()
