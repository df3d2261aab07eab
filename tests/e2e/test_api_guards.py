"""Guards of the REST API found open by an outside review (issue 11): seat hoarding and input.

Each test drives the composed app over real HTTP against the local YooKassa and asserts what a
client (or the shop owner) would notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from db.models import Payment
from tests.e2e.conftest import Shop
from tests.e2e.test_api import (
    ALICE,
    BOB,
    JSON,
    _at_yookassa,
    _auth,
    _error,
    _eventually,
    _invalid,
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


# ---- input rules ---------------------------------------------------------------------------------

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
HIDDEN = {
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "first strong isolate": "\u2068",
    "right-to-left mark": "\u200f",
    "bell": "\u0007",
    "null": "\u0000",
}


def _variant(shop: Shop, change: Callable[[JSON], None]) -> JSON:
    body = _session_body(shop)
    change(body)
    return body


def _set(*path: str | int, value: object) -> Callable[[JSON], None]:
    """A change of the session body that puts `value` at `path`."""

    def change(body: JSON) -> None:
        target: Any = body
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


async def test_digits_of_other_scripts_are_not_numbers(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    for digits in (ARABIC_INDIC, FULL_WIDTH):
        cases = [
            (_set("customer", "phone", value="+79991111111".translate(digits)), "customer.phone"),
            (
                _set("items", 0, "unit_price", "value", value="1000.00".translate(digits)),
                "items.0.unit_price.value",
            ),
            (
                _set("order", "total_amount", "value", value="2000.00".translate(digits)),
                "order.total_amount.value",
            ),
            (_set("items", 0, "visit_time", value="10:00".translate(digits)), "items.0.visit_time"),
        ]
        for change, field in cases:
            response = await client.post(
                "/v1/payments/sessions", json=_variant(shop, change), headers=_auth(token)
            )
            assert field in _invalid(response), (field, response.text)
    assert shop.yookassa.payments == {}


async def test_control_and_bidi_characters_are_refused_in_free_text(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    for name, char in HIDDEN.items():
        cases = [
            (_set("description", value=f"Билеты{char}txt.exe"), "description"),
            (_set("session_id", value=f"s{char}1"), "session_id"),
            (
                _set("confirmation", "return_url", value=f"https://zoo.ru/{char}ok"),
                "confirmation.return_url",
            ),
        ]
        for change, field in cases:
            response = await client.post(
                "/v1/payments/sessions", json=_variant(shop, change), headers=_auth(token)
            )
            assert field in _invalid(response), (name, field, response.text)
    assert shop.yookassa.payments == {}
    # Emoji sequences (held together by the zero-width joiner) and plain text are fine.
    family = "Семья 👨\u200d👩\u200d👧"
    ok = await _new_session(client, token, _variant(shop, _set("description", value=family)))
    sent = next(r.body for r in shop.yookassa.requests if r.path == "/v3/payments")
    assert sent["description"] == family
    patch = await client.patch(
        f"/v1/payments/{ok['payment_id']}",
        json={"description": "ok\u202egnp.exe"},
        headers=_auth(token),
    )
    assert _invalid(patch) == ["description"]
    test_user = await client.post(
        "/api/v2/auth/test-user",
        json={"userId": "test_user_1", "firstName": "Ann\u2066a"},
    )
    assert "firstName" in _invalid(test_user)


async def test_a_boolean_is_not_a_quantity(client: httpx.AsyncClient, shop: Shop) -> None:
    token = await _login(client, shop, ALICE)
    for value in (True, "2", 2.0):
        body = _variant(shop, _set("items", 0, "quantity", value=value))
        response = await client.post("/v1/payments/sessions", json=body, headers=_auth(token))
        assert _invalid(response) == ["items.0.quantity"], (value, response.text)
    # Even where `true` read as 1 would match the total.
    body = _variant(shop, _set("items", 0, "quantity", value=True))
    body["order"]["total_amount"]["value"] = "1000.00"
    response = await client.post("/v1/payments/sessions", json=body, headers=_auth(token))
    assert _invalid(response) == ["items.0.quantity"]
    assert shop.yookassa.payments == {}


async def test_metadata_keeps_to_yookassas_limits(client: httpx.AsyncClient, shop: Shop) -> None:
    token = await _login(client, shop, ALICE)
    payment_id = (await _new_session(client, token, _session_body(shop)))["payment_id"]
    for metadata in (
        {"k" * 33: "v"},
        {"k": "v" * 513},
        {f"k{i}": "v" for i in range(17)},
        {"": "v"},
        {"k\u202e": "v"},
        {"k": "v\u0000"},
    ):
        for method in ("PUT", "PATCH"):
            response = await client.request(
                method,
                f"/v1/payments/{payment_id}",
                json={"metadata": metadata},
                headers=_auth(token),
            )
            assert _invalid(response) == ["metadata"], (method, response.text)
    largest = {"k" * 32: "v" * 512}
    response = await client.put(
        f"/v1/payments/{payment_id}", json={"metadata": largest}, headers=_auth(token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["metadata"]["k" * 32] == "v" * 512
