"""Shared fixtures: settings on a temporary database, a migrated engine, a movable clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.migrate import upgrade

# The integration run on PostgreSQL sets TEST_DATABASE_URL; the default is a fresh SQLite file.
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


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


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Provide a database URL: a fresh SQLite file per test."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


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
