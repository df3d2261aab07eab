"""Notifications YooKassa sends again, or after our own capture settled the payment: answered,
and without asking YooKassa once more (payments/yookassa/settled.py). The composed service, the
real SDK and the local YooKassa.
"""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import Shop, ShopFactory
from tests.e2e.test_subscriptions import _choose_plan, _pay_url, _provider_id, _stored
from tests.e2e.test_tickets import _choose, _pay_id, _to_payment
from tests.fakes.telegram_api import FakeUser
from tests.unit.test_sandbox import eventually

WEBHOOK = "/api/v2/payments/webhook/yookassa"
PAID = "✅ Оплата получена"
ACTIVE = "активна до"


def _fetches(shop: Shop, provider_id: str) -> int:
    """How many times the service read this payment from YooKassa."""
    return sum(
        r.method == "GET" and r.path.endswith(f"/payments/{provider_id}")
        for r in shop.yookassa.requests
    )


async def _pending_plan(shop: Shop, user_id: int) -> tuple[FakeUser, str]:
    """A customer with a pending plan payment; return them and YooKassa's id of it."""
    user = shop.telegram.user(user_id)
    return user, _provider_id(await _pay_url(user, await _choose_plan(user, "299 ₽")))


async def test_the_succeeded_notification_after_our_capture_is_not_fetched_again(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(6501)
    await _choose(user, shop, adults=1)
    provider_id = await _pay_id(user, await _to_payment(user, None))

    await shop.yookassa.pay(provider_id)
    await user.wait_for(lambda m: PAID in (m.text or ""), timeout=10)
    await shop.yookassa.wait_notifications()

    # waiting_for_capture was fetched, then captured; the capture's answer said succeeded, so
    # YooKassa's payment.succeeded is answered without a second fetch.
    answered = sorted((n.event, n.http_status) for n in shop.yookassa.notifications)
    assert answered == [("payment.succeeded", 200), ("payment.waiting_for_capture", 200)]
    assert _fetches(shop, provider_id) == 1
    assert shop.yookassa.payments[provider_id]["status"] == "succeeded"
    assert len([m for m in user.messages if PAID in (m.text or "")]) == 1


async def test_a_redelivery_while_the_first_is_in_hand_waits_for_it_and_fetches_nothing(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user, provider_id = await _pending_plan(shop, 6502)
    shop.yookassa.lose_notifications(1)
    await shop.yookassa.pay(provider_id)
    # The first delivery's re-fetch is answered late: the redelivery arrives meanwhile.
    shop.yookassa.slow(0.5, n=1)
    url = f"{shop.service.base_url}{WEBHOOK}"

    first = asyncio.create_task(
        shop.yookassa.send_notification("payment.succeeded", provider_id, url=url)
    )
    await eventually(lambda: _fetches(shop, provider_id) > 0)
    again = await shop.yookassa.send_notification("payment.succeeded", provider_id, url=url)

    assert (await first, again) == (200, 200)
    assert _fetches(shop, provider_id) == 1
    assert (await _stored(shop, provider_id)).status == "succeeded"
    await user.wait_for(lambda m: ACTIVE in (m.text or ""), timeout=10)
    assert len([m for m in user.messages if ACTIVE in (m.text or "")]) == 1


async def test_a_payment_not_yet_paid_is_fetched_at_every_notification(
    make_shop: ShopFactory,
) -> None:
    # Only a payment seen succeeded is remembered: one still pending is asked about each time.
    shop = await make_shop()
    _, provider_id = await _pending_plan(shop, 6503)
    url = f"{shop.service.base_url}{WEBHOOK}"

    for _ in range(2):
        status = await shop.yookassa.send_notification("payment.succeeded", provider_id, url=url)
        assert status == 200

    assert _fetches(shop, provider_id) == 2
    assert (await _stored(shop, provider_id)).status == "pending"
