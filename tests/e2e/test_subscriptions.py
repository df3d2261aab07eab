"""Subscriptions end to end: the real Bot and SDK against the local Telegram and YooKassa."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import func, select

from bot.texts import day
from db.models import Payment
from db.models_subscriptions import Subscription, SubscriptionPeriod
from tests.e2e.conftest import Shop, ShopFactory
from tests.fakes.telegram_api import ChatMessage, FakeUser

WEBHOOK = "/api/v2/payments/webhook/yookassa"


def _date_ru(value: datetime, shop: Shop) -> str:
    return day("ru", value.astimezone(shop.settings.tz).date())


async def _choose_plan(user: FakeUser, plan_text: str) -> ChatMessage:
    """Open /subscribe, press a plan, return the pay message."""
    await user.send("/subscribe")
    await user.wait_reply()
    await user.press(plan_text, contains=True)
    return await user.wait_for(lambda m: any("💳" in b for b in m.button_texts()), timeout=10)


async def _pay_url(user: FakeUser, message: ChatMessage) -> str:
    pay_text = next(b for b in message.button_texts() if b.startswith("💳"))
    url = await user.press(pay_text, message)
    assert isinstance(url, str)
    return url


def _provider_id(url: str) -> str:
    return parse_qs(urlparse(url).query)["orderId"][0]


async def _stored(shop: Shop, provider_id: str) -> Payment:
    async with shop.service.sessionmaker() as session:
        return (
            await session.execute(select(Payment).where(Payment.provider_id == provider_id))
        ).scalar_one()


async def _periods(shop: Shop) -> int:
    async with shop.service.sessionmaker() as session:
        return int((await session.execute(select(func.count(SubscriptionPeriod.id)))).scalar_one())


async def test_new_user_buys_monthly_and_sees_expiry(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(2001, first_name="Анна")
    pay_message = await _choose_plan(user, "299 ₽")
    assert "ZooTicket - месячная подписка (30 дней) • 299 ₽" in (pay_message.text or "")
    assert "✖️ Отменить" in pay_message.button_texts()
    url = await _pay_url(user, pay_message)
    provider_id = _provider_id(url)
    sent = shop.yookassa.requests[-1].body
    assert sent["capture"] is True
    assert sent["amount"] == {"value": "299.00", "currency": "RUB"}
    assert sent["receipt"]["customer"] == {"email": "2001@burlive.ru"}
    assert sent["metadata"]["userId"] == "2001"

    await shop.yookassa.pay(provider_id)
    confirmation = await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    expected = _date_ru(datetime.now(UTC) + timedelta(days=30), shop)
    assert expected in (confirmation.text or "")
    closed = next(m for m in user.messages if m.message_id == pay_message.message_id)
    assert closed.text and closed.text.startswith("✅")
    assert not closed.buttons

    await user.send("/my")
    my = await user.wait_reply()
    assert expected in (my.text or "")
    stored = await _stored(shop, provider_id)
    assert stored.status == "succeeded"
    assert stored.cohort == "new"


async def test_repeated_and_late_notifications_change_nothing(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(2002)
    url = await _pay_url(user, await _choose_plan(user, "299 ₽"))
    provider_id = _provider_id(url)
    shop.yookassa.lose_notifications(1)
    await shop.yookassa.pay(provider_id)
    statuses = await asyncio.gather(
        *(shop.yookassa.send_notification("payment.succeeded", provider_id) for _ in range(6))
    )
    assert statuses == [200] * 6
    late = await shop.yookassa.send_notification("payment.waiting_for_capture", provider_id)
    assert late == 200
    # Every notification was answered, and our webhook answers only once it has acted.
    await shop.yookassa.wait_notifications()
    assert shop.yookassa.dropped_notifications == [("payment.succeeded", provider_id)]
    await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    confirmations = [m for m in user.messages if "активна до" in (m.text or "")]
    assert len(confirmations) == 1
    assert await _periods(shop) == 1
    async with shop.service.sessionmaker() as session:
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.expires_at - sub.starts_at == timedelta(days=30)


async def test_forged_and_untrusted_and_junk_notifications(make_shop: ShopFactory) -> None:
    shop = await make_shop(
        TRUSTED_PROXIES="127.0.0.1/32", YOOKASSA_TRUSTED_NETWORKS="127.0.0.0/8,185.71.76.0/27"
    )
    user = shop.telegram.user(2003)
    url = await _pay_url(user, await _choose_plan(user, "299 ₽"))
    provider_id = _provider_id(url)
    forged = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {
            "id": provider_id,
            "status": "succeeded",
            "paid": True,
            "amount": {"value": "299.00", "currency": "RUB"},
            "metadata": {"userId": "2003", "product": "monthly"},
        },
    }
    base = shop.service.base_url
    async with httpx.AsyncClient(base_url=base) as client:
        trusted = await client.post(
            WEBHOOK, json=forged, headers={"X-Forwarded-For": "185.71.76.5"}
        )
        assert trusted.status_code == 200
        untrusted = await client.post(WEBHOOK, json=forged, headers={"X-Forwarded-For": "8.8.8.8"})
        assert untrusted.status_code == 403
        spoofed = await client.post(
            WEBHOOK, json=forged, headers={"X-Forwarded-For": "185.71.76.5, 8.8.8.8"}
        )
        assert spoofed.status_code == 403
        for junk in (
            b"not json",
            b"[]",
            b'{"type":"notification"}',
            b'{"type":"notification","event":"payment.succeeded","object":{"id":5}}',
            b'{"type":"notification","event":"payment.succeeded","object":{"id":"../x"}}',
        ):
            answer = await client.post(WEBHOOK, content=junk)
            assert 400 <= answer.status_code < 500, junk
    assert (await _stored(shop, provider_id)).status == "pending"
    assert await _periods(shop) == 0
    assert not [m for m in user.messages if "активна до" in (m.text or "")]


async def test_lost_notification_is_recovered_by_the_reconciler(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(2004)
    url = await _pay_url(user, await _choose_plan(user, "299 ₽"))
    provider_id = _provider_id(url)
    shop.yookassa.lose_notifications(1)
    await shop.yookassa.pay(provider_id)
    # The one notification was dropped, not delayed: nothing is on its way to us.
    await shop.yookassa.wait_notifications()
    assert shop.yookassa.dropped_notifications == [("payment.succeeded", provider_id)]
    assert [n for n in shop.yookassa.notifications if n.object_id == provider_id] == []
    assert (await _stored(shop, provider_id)).status == "pending"
    async with shop.service.sessionmaker.begin() as session:
        payment = (
            await session.execute(select(Payment).where(Payment.provider_id == provider_id))
        ).scalar_one()
        payment.created_at = payment.created_at - timedelta(minutes=5)
    report = await shop.service.payments.jobs.reconcile()
    assert report.changed == 1
    await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=5)
    assert (await _stored(shop, provider_id)).status == "succeeded"


async def test_yookassa_500_then_200_makes_one_payment(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    shop.yookassa.fail_next(n=1, status=500)
    user = shop.telegram.user(2005)
    pay_message = await _choose_plan(user, "299 ₽")
    assert await _pay_url(user, pay_message)
    assert shop.yookassa.create_count == 1
    keys = {r.idempotence_key for r in shop.yookassa.requests if r.path.endswith("/payments")}
    assert len(keys) == 1


async def test_yookassa_hanging_gives_a_friendly_error_in_time(make_shop: ShopFactory) -> None:
    shop = await make_shop(YOOKASSA_TIMEOUT_SECONDS=1)
    shop.yookassa.slow(5.0)
    user = shop.telegram.user(2006)
    await user.send("/subscribe")
    await user.wait_reply()
    started = asyncio.get_running_loop().time()
    await user.press("299 ₽", contains=True)
    answer = await user.wait_callback_answer(timeout=5)
    assert asyncio.get_running_loop().time() - started < 3
    assert answer.text and "не отвечает" in answer.text
    shop.yookassa.slow(0)
    async with shop.service.sessionmaker() as session:
        payment = (await session.execute(select(Payment))).scalar_one()
    assert payment.status == "canceled"
    assert payment.cancel_reason == "provider:unavailable"


async def test_test_user_pays_ten_and_early_renewal_adds_days(make_shop: ShopFactory) -> None:
    shop = await make_shop(TEST_USER_IDS="2007")
    user = shop.telegram.user(2007)
    pay_message = await _choose_plan(user, "Месячная")
    assert "[ТЕСТ] ZooTicket - месячная подписка (30 дней) • 10 ₽" in (pay_message.text or "")
    first = _provider_id(await _pay_url(user, pay_message))
    assert shop.yookassa.payments[first]["amount"]["value"] == "10.00"
    assert shop.yookassa.payments[first]["description"].startswith("[ТЕСТ] ")
    await shop.yookassa.pay(first)
    await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    async with shop.service.sessionmaker() as session:
        first_expiry = (await session.execute(select(Subscription))).scalar_one().expires_at

    second = _provider_id(await _pay_url(user, await _choose_plan(user, "Месячная")))
    await shop.yookassa.pay(second)
    expected = _date_ru(first_expiry + timedelta(days=30), shop)
    await user.wait_for(lambda m: expected in (m.text or ""), timeout=10)
    async with shop.service.sessionmaker() as session:
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.expires_at == first_expiry + timedelta(days=30)
    assert (await _stored(shop, second)).amount == Decimal("10.00")


async def test_user_cancels_from_the_pay_message(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(2008)
    pay_message = await _choose_plan(user, "299 ₽")
    await user.press("✖️ Отменить", pay_message)
    edited = await user.wait_reply()
    assert edited.text and "отменён" in edited.text
    # The pay and cancel buttons are gone; the next steps are offered instead.
    assert not any("💳" in b or "Отменить" in b for b in edited.button_texts())
    assert "⬅️ В меню" in edited.button_texts()
    async with shop.service.sessionmaker() as session:
        payment = (await session.execute(select(Payment))).scalar_one()
    assert (payment.status, payment.cancel_reason) == ("canceled", "user")


async def test_pending_limit_refuses_politely(make_shop: ShopFactory) -> None:
    shop = await make_shop(PENDING_PAYMENTS_LIMIT=2)
    user = shop.telegram.user(2009)
    # Two different plans (the same plan again would reuse its pending payment).
    for price in ("299 ₽", "799 ₽"):
        await _choose_plan(user, price)
    await user.send("/subscribe")
    await user.wait_reply()
    await user.press("999 ₽", contains=True)
    answer = await user.wait_callback_answer()
    assert answer.text and "слишком много" in answer.text
    assert shop.yookassa.create_count == 2


async def test_sandbox_runs_the_production_path(make_shop: ShopFactory) -> None:
    shop = await make_shop(sandbox=True)
    user = shop.telegram.user(2010)
    pay_message = await _choose_plan(user, "299 ₽")
    assert "Песочница" in (pay_message.text or "")
    assert (pay_message.text or "").rstrip().endswith("no real money is charged.") is False
    url = await _pay_url(user, pay_message)
    assert "/sandbox/checkout/" in url
    async with httpx.AsyncClient() as client:
        page = await client.get(url)
        assert page.status_code == 200
        assert "SANDBOX" in page.text
        action = re.search(r'action="([^"]*/pay)"', page.text)
        assert action is not None
        paid = await client.post(str(page.url.join(action.group(1))), follow_redirects=False)
        assert paid.status_code == 303
    await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    async with shop.service.sessionmaker() as session:
        payment = (await session.execute(select(Payment))).scalar_one()
        assert payment.status == "succeeded"
        assert payment.description.endswith("[SANDBOX]")
        assert (await session.execute(select(Subscription))).scalar_one().status == "active"


@pytest.mark.parametrize("language", ["en"])
async def test_english_customer_sees_english_plans(make_shop: ShopFactory, language: str) -> None:
    shop = await make_shop()
    user = shop.telegram.user(2011, language_code=language)
    await user.send("/subscribe")
    reply = await user.wait_reply()
    assert reply.text and reply.text.startswith("ZooTicket subscription")
    assert any(b == "Monthly subscription — 299 ₽" for b in reply.button_texts())
