"""Shared fixtures: settings on a temporary database, a migrated engine, a movable clock."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade
from settings import Settings

# Print a hung test's asyncio tasks before pytest-timeout ends its worker.
pytest_plugins = ["tests.hang_report"]

# The integration run on PostgreSQL sets TEST_DATABASE_URL; the default is a fresh SQLite file.
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
# pytest-xdist runs each worker in a process of its own, named gw0, gw1, ...; without xdist, "".
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_index() -> int:
    """Return this xdist worker's number (0 without xdist): what a worker may hold alone."""
    return int(WORKER.removeprefix("gw")) if WORKER else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order and trim the run.

    The PostgreSQL run keeps only the tests that use its database (the `database_url` fixture,
    directly or through `engine`, `make_shop`, ...) or are marked `services` (Redis alone, say):
    the others, such as `main.py` run in a subprocess on a SQLite file of its own, would repeat
    exactly what the SQLite run did.
    The tests marked slow go first, so that pytest-xdist hands them out while every worker is
    still busy instead of leaving one worker with a long test at the end.
    """
    if POSTGRES_URL is not None:
        uses = [
            (
                item,
                "database_url" in getattr(item, "fixturenames", ())
                or item.get_closest_marker("services") is not None,
            )
            for item in items
        ]
        if not all(used for _, used in uses):
            config.hook.pytest_deselected(items=[item for item, used in uses if not used])
            items[:] = [item for item, used in uses if used]
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class MovableClock:
    """A clock tests can move forward."""

    def __init__(self, start: datetime | None = None) -> None:
        """Start at the given time or now."""
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        """Return the current test time."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to a moment."""
        self._now = moment

    def advance(self, **delta: float) -> datetime:
        """Move time forward by a timedelta's keyword arguments."""
        self._now += timedelta(**delta)
        return self._now


@pytest.fixture
def clock() -> MovableClock:
    """Provide a movable clock starting now."""
    return MovableClock()


# One template per worker: each worker drops and re-creates its own at the start of its run.
TEMPLATE = f"zt_template_{worker_index()}"


def _admin_dsn() -> str:
    assert POSTGRES_URL is not None
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(name: str) -> str:
    assert POSTGRES_URL is not None
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


async def _create_template() -> None:
    connection = await asyncpg.connect(_admin_dsn())
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await connection.close()
    engine = create_engine(_with_database(TEMPLATE))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> str | None:
    """Migrate a template database once per run; each test copies it (PostgreSQL run only)."""
    if POSTGRES_URL is None:
        return None
    asyncio.run(_create_template())
    return TEMPLATE


@pytest.fixture
async def database_url(tmp_path: Path, postgres_template: str | None) -> AsyncIterator[str]:
    """Provide a fresh database per test: a SQLite file, or a copy of the PostgreSQL template."""
    if postgres_template is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    name = f"zt_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_admin_dsn())
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    finally:
        await admin.close()
    yield _with_database(name)
    admin = await asyncpg.connect(_admin_dsn())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    """Build Settings that ignore any .env file and use the test database."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "DATABASE_URL": database_url,
            "HTTP_PORT": 0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return factory


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Provide an engine on a database migrated to head with the real migrations."""
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Provide the session factory of the migrated database."""
    return create_sessionmaker(engine)
