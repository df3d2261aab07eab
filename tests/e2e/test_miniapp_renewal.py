"""The Mini App's auto-renewal: the terms shown before paying, a purchase with consent (and
only then YooKassa saves the card), and the customer's switches: off, on again, forget the card.

Through real HTTP against the app composed as main.py composes it, with the local YooKassa;
the shop's clock stands at 11:00 shop time and moves by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from db.models_subscriptions import RenewalConsent
from payments.subscriptions.terms import TERMS_VERSION
from tests.e2e.conftest import Shop
from tests.e2e.miniapp_kit import (
    ALICE,
    BOB,
    JSON,
    clock,
    eventually,
    fields_of,
    get_json,
    login,
)
from tests.e2e.miniapp_kit import http as http  # noqa: F401, PLC0414  (fixture)
from tests.e2e.miniapp_kit import shop as shop  # noqa: F401, PLC0414  (fixture)

BACK = "https://example.com/back"


def _creates(shop: Shop) -> list[dict[str, Any]]:
    """The bodies of the payment creations YooKassa received."""
    return [
        r.body
        for r in shop.yookassa.requests
        if r.method == "POST" and r.path.endswith("/payments") and isinstance(r.body, dict)
    ]


async def _subscription(http: httpx.AsyncClient, headers: dict[str, str]) -> JSON:
    sub: JSON = (await get_json(http, "/api/v2/app/subscription", headers))["subscription"]
    return sub


async def _buy(
    http: httpx.AsyncClient, shop: Shop, headers: dict[str, str], *, auto_renew: bool
) -> JSON:
    """Buy the monthly plan as the Mini App does (with the terms' version when opting in),
    pay in YooKassa's page and wait for the subscription; return it."""
    body: JSON = {"product": "monthly", "returnUrl": BACK}
    if auto_renew:
        terms = await get_json(http, "/api/v2/app/renewal-terms?plan=monthly", headers)
        body.update(autoRenew=True, termsVersion=terms["version"])
    created = await http.post("/api/v2/payments/create", json=body, headers=headers)
    assert created.status_code == 200, created.text
    await shop.yookassa.pay(created.json()["paymentId"])
    found: JSON = {}

    async def active() -> bool:
        found.clear()
        found.update(await get_json(http, "/api/v2/app/subscription", headers))
        sub = found["subscription"]
        return sub is not None and (not auto_renew or sub["autoRenew"]["card"] is not None)

    await eventually(active)
    sub: JSON = found["subscription"]
    return sub


def _instant(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


async def _consents(shop: Shop) -> list[RenewalConsent]:
    async with shop.service.sessionmaker() as session:
        rows = await session.execute(select(RenewalConsent).order_by(RenewalConsent.id))
        return list(rows.scalars())


# ---- the terms and the purchase ----------------------------------------------------------------


async def test_terms_state_amount_period_next_charge_and_how_to_stop(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE, language="en")
    terms = await get_json(http, "/api/v2/app/renewal-terms?plan=monthly", alice)
    now = shop.service.clock.now()
    # Bought now: the period ends in 30 days and is renewed a day (RENEWAL_LEAD_HOURS) before.
    assert _instant(terms["nextChargeAt"]) == (now + timedelta(days=29)).replace(microsecond=0)
    assert (terms["version"], terms["days"]) == (TERMS_VERSION, 30)
    text = terms["text"]
    assert "every 30 days" in text
    assert "/my" in text
    assert (now + timedelta(days=29)).strftime("%-d %B %Y") in text
    russian = await login(http, shop, BOB)
    ru = (await get_json(http, "/api/v2/app/renewal-terms?plan=monthly", russian))["text"]
    assert "каждые 30 дней" in ru
    assert "/my" in ru

    assert fields_of(await http.get("/api/v2/app/renewal-terms?plan=nope", headers=alice)) == [
        "plan"
    ]
    assert (await http.get("/api/v2/app/renewal-terms?plan=monthly")).status_code == 401


async def test_consented_purchase_saves_the_card_and_stores_the_consent_from_the_app(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE, language="en")
    terms = await get_json(http, "/api/v2/app/renewal-terms?plan=monthly", alice)
    sub = await _buy(http, shop, alice, auto_renew=True)

    (sent,) = _creates(shop)
    assert sent["save_payment_method"] is True
    renew = sub["autoRenew"]
    assert (renew["on"], renew["card"], renew["state"]) == (True, "Карта *4444", None)
    assert renew["nextChargeAt"] == terms["nextChargeAt"]
    assert renew["nextChargeAmount"] == terms["amount"]
    assert _instant(renew["nextChargeAt"]) == _instant(sub["expiresAt"]) - timedelta(days=1)
    (consent,) = await _consents(shop)
    assert (consent.user_id, consent.channel, consent.text_version) == (
        str(ALICE),
        "miniapp",
        TERMS_VERSION,
    )
    assert consent.subscription_id is not None


async def test_one_off_purchase_never_asks_to_save_the_card(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    sub = await _buy(http, shop, alice, auto_renew=False)

    (sent,) = _creates(shop)
    assert not sent.get("save_payment_method", False)
    assert sub["autoRenew"] == {
        "on": False,
        "card": None,
        "nextChargeAt": None,
        "nextChargeAmount": None,
        "state": None,
    }
    assert await _consents(shop) == []


async def test_opting_in_needs_the_current_terms(http: httpx.AsyncClient, shop: Shop) -> None:
    alice = await login(http, shop, ALICE)
    body: JSON = {"product": "monthly", "returnUrl": BACK, "autoRenew": True}
    missing = await http.post("/api/v2/payments/create", json=body, headers=alice)
    assert fields_of(missing) == ["termsVersion"]
    stale = await http.post(
        "/api/v2/payments/create", json={**body, "termsVersion": "renew-terms-v0"}, headers=alice
    )
    assert stale.status_code == 409, stale.text
    assert _creates(shop) == []  # nothing reached YooKassa


# ---- the switches ------------------------------------------------------------------------------


async def test_turn_off_on_again_and_forget_the_card(http: httpx.AsyncClient, shop: Shop) -> None:
    alice = await login(http, shop, ALICE)
    await _buy(http, shop, alice, auto_renew=True)
    switch = "/api/v2/app/subscription/auto-renew"

    off = await http.post(switch, json={"on": False}, headers=alice)
    assert off.status_code == 200, off.text
    assert off.json()["autoRenew"] == {
        "on": False,
        "card": "Карта *4444",
        "nextChargeAt": None,
        "nextChargeAmount": None,
        "state": None,
    }
    assert (await _subscription(http, alice))["autoRenew"]["on"] is False

    # On again: only after the terms were shown again.
    assert fields_of(await http.post(switch, json={"on": True}, headers=alice)) == ["termsVersion"]
    assert fields_of(await http.post(switch, json={"on": "yes"}, headers=alice)) == ["on"]
    terms = await get_json(http, "/api/v2/app/renewal-terms?plan=monthly&resume=true", alice)
    stale = await http.post(
        switch, json={"on": True, "termsVersion": "renew-terms-v0"}, headers=alice
    )
    assert stale.status_code == 409, stale.text
    assert (await _subscription(http, alice))["autoRenew"]["on"] is False
    sub = await _subscription(http, alice)
    assert _instant(terms["nextChargeAt"]) == _instant(sub["expiresAt"]) - timedelta(days=1)
    on = await http.post(switch, json={"on": True, "termsVersion": terms["version"]}, headers=alice)
    assert on.status_code == 200, on.text
    assert on.json()["autoRenew"]["on"] is True
    assert on.json()["autoRenew"]["nextChargeAt"] == terms["nextChargeAt"]
    consents = await _consents(shop)
    assert [(c.channel, c.revoked_at is None) for c in consents] == [
        ("miniapp", False),  # the purchase's, revoked when turned off
        ("miniapp", True),  # given again with the terms shown
    ]

    forgotten = await http.delete("/api/v2/app/subscription/card", headers=alice)
    assert forgotten.status_code == 200, forgotten.text
    assert forgotten.json()["autoRenew"]["on"] is False
    assert forgotten.json()["autoRenew"]["card"] is None
    again = await http.delete("/api/v2/app/subscription/card", headers=alice)
    assert again.status_code == 409, again.text
    no_card = await http.post(
        switch, json={"on": True, "termsVersion": TERMS_VERSION}, headers=alice
    )
    assert no_card.status_code == 409, no_card.text
    assert "card" in no_card.json()["message"]


async def test_turning_on_a_one_off_subscription_needs_a_saved_card(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    await _buy(http, shop, alice, auto_renew=False)
    on = await http.post(
        "/api/v2/app/subscription/auto-renew",
        json={"on": True, "termsVersion": TERMS_VERSION},
        headers=alice,
    )
    assert on.status_code == 409, on.text
    assert (await _subscription(http, alice))["autoRenew"]["on"] is False


async def test_an_ended_subscription_is_not_turned_back_on(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    await _buy(http, shop, alice, auto_renew=True)
    switch = "/api/v2/app/subscription/auto-renew"
    assert (await http.post(switch, json={"on": False}, headers=alice)).status_code == 200
    clock(shop).advance(days=31)
    on = await http.post(switch, json={"on": True, "termsVersion": TERMS_VERSION}, headers=alice)
    assert on.status_code == 409, on.text
    assert "ended" in on.json()["message"]
    assert (await _subscription(http, alice))["autoRenew"]["on"] is False


async def test_another_customer_cannot_touch_yours(http: httpx.AsyncClient, shop: Shop) -> None:
    alice = await login(http, shop, ALICE)
    bob = await login(http, shop, BOB)
    await _buy(http, shop, alice, auto_renew=True)

    off = await http.post("/api/v2/app/subscription/auto-renew", json={"on": False}, headers=bob)
    assert off.status_code == 404, off.text
    forget = await http.delete("/api/v2/app/subscription/card", headers=bob)
    assert forget.status_code == 404, forget.text
    assert (await http.delete("/api/v2/app/subscription/card")).status_code == 401
    renew = (await _subscription(http, alice))["autoRenew"]
    assert (renew["on"], renew["card"]) == (True, "Карта *4444")


async def test_turned_off_in_the_notice_window_nothing_is_charged(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    sub = await _buy(http, shop, alice, auto_renew=True)
    renewals = shop.service.payments.renewals
    # Two days before the end: the notice is out, the renewal written with its price.
    clock(shop).advance(days=28)
    await renewals.run()
    assert len(_creates(shop)) == 1
    off = await http.post("/api/v2/app/subscription/auto-renew", json={"on": False}, headers=alice)
    assert off.status_code == 200, off.text

    clock(shop).advance(days=1, hours=12)  # past the charge time
    await renewals.run()
    assert len(_creates(shop)) == 1  # only the purchase: no renewal charge
    assert (await _subscription(http, alice))["expiresAt"] == sub["expiresAt"]
