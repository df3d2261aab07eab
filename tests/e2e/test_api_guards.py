"""Guards of the REST API found open by an outside review (issue 11): seat hoarding and input.

Each test drives the composed app over real HTTP against the local YooKassa and asserts what a
client (or the shop owner) would notice.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from db.models import Payment
from tests.e2e.conftest import Shop
from tests.e2e.test_api import (
    ALICE,
    BOB,
    _at_yookassa,
    _auth,
    _error,
    _eventually,
    _login,
    _new_session,
    _session_body,
    client,
    shop,
)

__all__ = ["client", "shop"]  # the fixtures, shared with test_api


async def _status_is(shop: Shop, payment_id: str, status: str) -> bool:
    async with shop.service.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
    return payment is not None and payment.status == status


async def _sessions(shop: Shop) -> int:
    async with shop.service.sessionmaker() as session:
        return int((await session.execute(select(func.count(Payment.id)))).scalar_one())


# ---- seat hoarding -------------------------------------------------------------------------------


async def test_unpaid_seats_across_orders_never_exceed_one_orders_maximum(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    first = await _new_session(client, token, _session_body(shop, adults=15))
    refused = await client.post(
        "/v1/payments/sessions", json=_session_body(shop, adults=6), headers=_auth(token)
    )
    message = _error(refused, 409)["message"]
    assert "15 unpaid seats" in message
    assert "at most 20" in message
    assert "Paying or cancelling" in message
    assert len(shop.yookassa.payments) == 1
    second = await _new_session(client, token, _session_body(shop, adults=5))
    # A later day or another slot is no way around it: the allowance is per customer.
    other_day = await client.post(
        "/v1/payments/sessions", json=_session_body(shop, days=2, adults=1), headers=_auth(token)
    )
    assert "20 unpaid seats" in _error(other_day, 409)["message"]

    # Another customer has an allowance of their own.
    bob = await _login(client, shop, BOB)
    await _new_session(client, bob, _session_body(shop, adults=20))

    # A paid order no longer counts ...
    paid = _at_yookassa(shop, first["payment_id"])[0]["id"]
    await shop.yookassa.pay(paid)
    await _eventually(lambda: _status_is(shop, first["payment_id"], "succeeded"))
    await _new_session(client, token, _session_body(shop, adults=15))
    # ... nor does a canceled one.
    full = await client.post(
        "/v1/payments/sessions", json=_session_body(shop, adults=1), headers=_auth(token)
    )
    assert "20 unpaid seats" in _error(full, 409)["message"]
    declined = _at_yookassa(shop, second["payment_id"])[0]["id"]
    await shop.yookassa.decline(declined, "insufficient_funds")
    await _eventually(lambda: _status_is(shop, second["payment_id"], "canceled"))
    await _new_session(client, token, _session_body(shop, adults=5))


async def test_two_concurrent_checkouts_of_one_customer_cannot_both_hold(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)

    async def checkout(adults: int) -> httpx.Response:
        return await client.post(
            "/v1/payments/sessions", json=_session_body(shop, adults=adults), headers=_auth(token)
        )

    answers = await asyncio.gather(*(checkout(12) for _ in range(4)))

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert await _sessions(shop) == 1
    assert len(shop.yookassa.payments) == 1
