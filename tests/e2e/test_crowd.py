"""A customer's API request counts in the crowd YooKassa's notifications yield to
(payments/loop_turns.py, payments/api/served.py) while it is being answered, and not while it
waits for YooKassa to create the payment. The composed service, its /metrics, the local YooKassa.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import update

from db.models import User
from tests.e2e.conftest import ShopFactory
from tests.e2e.test_api import _auth, _login, _session_body
from tests.e2e.test_metrics import sample, scraped_until


def _in_flight(text: str) -> float | None:
    return sample(text, "zooticket_customers_in_flight")


async def test_a_customers_request_counts_while_answered_but_not_while_at_yookassa(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(METRICS_PORT=0)
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=30) as http:
        customer = 7301
        token = await _login(http, shop, customer)
        creating = shop.yookassa.hold("POST", "/v3/payments")
        # Another writer holds the customer's row (on SQLite the database's write lock): the
        # checkout's first transaction waits for it, its request in hand.
        async with shop.service.sessionmaker.begin() as session:
            await session.execute(
                update(User).where(User.id == str(customer)).values(first_name="Held")
            )
            checkout = asyncio.create_task(
                http.post("/v1/payments/sessions", json=_session_body(shop), headers=_auth(token))
            )
            await scraped_until(shop, lambda t: _in_flight(t) == 1)
            assert not checkout.done()

        async with asyncio.timeout(10):
            await creating.arrived.wait()
        # At YooKassa: still in hand, but not crowding the loop.
        await scraped_until(shop, lambda t: _in_flight(t) == 0)
        assert not checkout.done()

        creating.release.set()
        answer = await checkout
        assert answer.status_code == 201, answer.text
        await scraped_until(shop, lambda t: _in_flight(t) == 0)
