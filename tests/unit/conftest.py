"""Fixtures shared by unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.factory import create_bot


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    """The service's Bot, as create_bot makes it, pointed at an address nobody serves: for
    tests of what its session builds and reads, which send nothing."""
    made = create_bot("42:TEST", "http://127.0.0.1:9")
    yield made
    await made.session.close()
