"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import MovableClock
from tests.integration.admin_console import Console, wired_console


@pytest.fixture
async def console(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> AsyncIterator[Console]:
    """The admin use-cases on a migrated database and the local YooKassa."""
    async with wired_console(sessionmaker, clock) as wired:
        yield wired
