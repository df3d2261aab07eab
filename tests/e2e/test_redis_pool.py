"""A rush with the bot's state in Redis: more updates in flight than pooled connections.

In a sale rush on PostgreSQL + Redis (`make bench`'s rush part), redis-py's plain pool raised
"Too many connections" once its connections were all in use: updates failed unanswered, some
while releasing their user's lock, and that user's next update then waited out the lock's
60 s. The bot's pool now makes an update wait for a free connection instead.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.texts import t
from tests.e2e.conftest import REDIS_URL, ShopFactory

pytestmark = pytest.mark.services

CUSTOMERS = 30


async def test_more_customers_at_once_than_redis_connections_are_all_answered(
    make_shop: ShopFactory,
) -> None:
    assert REDIS_URL, "this test needs the Redis of the services run"
    # Two connections for thirty customers: the rush's shortage, made certain.
    shop = await make_shop(REDIS_URL=f"{REDIS_URL}?max_connections=2")
    users = [shop.telegram.user(81_000 + i) for i in range(CUSTOMERS)]

    await asyncio.gather(*(user.send("/tickets") for user in users))
    pickers = await asyncio.gather(*(user.wait_reply(timeout=20) for user in users))
    assert all(picker.button_texts() for picker in pickers)

    # Nobody's lock was left behind: each customer's next update is answered at once,
    # not after the 60 s a lost lock is kept.
    await asyncio.gather(*(user.send("/start") for user in users))
    welcomes = await asyncio.gather(*(user.wait_reply(timeout=10) for user in users))
    assert len(welcomes) == CUSTOMERS
    apology = t("ru", "error")
    assert not [c for c in shop.telegram.calls("sendMessage") if c.get("text") == apology]
