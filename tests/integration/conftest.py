"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from tests.conftest import MovableClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.integration.admin_console import Console, wired_console


@pytest.fixture
async def console(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> AsyncIterator[Console]:
    """The admin use-cases on a migrated database and the local YooKassa."""
    async with wired_console(sessionmaker, clock) as wired:
        yield wired


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramAPI]:
    """The local Bot API server."""
    async with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
async def bot(telegram: FakeTelegramAPI) -> AsyncIterator[Bot]:
    """A real aiogram Bot talking to the local Bot API."""
    bot = create_bot(telegram.token, telegram.base_url)
    yield bot
    await bot.session.close()
