"""The service's PostgreSQL connections: never more than `DATABASE_POOL_SIZE` at once, each kept
once opened, so a burst of customers waits briefly for one instead of opening (and closing)
new ones (db/engine.py `create_engine`). What PostgreSQL itself sees: its backends' pids.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from tests.e2e.conftest import ShopFactory

pytestmark = pytest.mark.services


async def test_a_burst_opens_no_more_than_the_pool_and_the_next_one_opens_none(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(DATABASE_POOL_SIZE=3)
    assert shop.settings.DATABASE_URL.startswith("postgresql"), "needs the services run"
    sessionmaker = shop.service.sessionmaker
    in_hand = most = 0
    full = asyncio.Event()

    async def customer() -> int:
        """Take a connection, tell which backend it is, and keep it until three are taken."""
        nonlocal in_hand, most
        async with sessionmaker() as session:
            backend = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
            in_hand += 1
            most = max(most, in_hand)
            if in_hand == 3:
                full.set()
            await full.wait()
            in_hand -= 1
        return backend

    async with asyncio.timeout(30):
        first = set(await asyncio.gather(*(customer() for _ in range(12))))
        second = set(await asyncio.gather(*(customer() for _ in range(12))))

    assert most == 3
    assert len(first) == 3
    assert second <= first
