"""A digital plan sold for Telegram Stars, end to end through the local Telegram server.

The customer buys the Stars monthly plan from /subscribe, Telegram renews it every 30 days,
every charge extends the subscription once however often Telegram redelivers it, a stale
invoice is refused at pre-checkout, /refund gives the Stars back with refundStarPayment and
/my turns the renewal off with editUserStarSubscription.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.models import Payment, PaymentEvent
from db.models_subscriptions import Subscription, SubscriptionPeriod
from tests.conftest import MovableClock
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory
from tests.fakes.telegram_api import ChatMessage, FakeApiError, FakeUser
from tests.fakes.telegram_stars import STARS_PERIOD, FakeStars

PAID = "активна до"


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until a condition on the database holds (a state change, not a fixed pause)."""
    async with asyncio.timeout(10):
        # The bot's database has no change feed to wait on: look again shortly.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert await check(), what


async def _count(shop: Shop, *where: object) -> int:
    async with shop.service.sessionmaker() as session:
        return int((await session.execute(select(func.count()).where(*where))).scalar_one())  # type: ignore[arg-type]


async def _periods(shop: Shop) -> int:
    async with shop.service.sessionmaker() as session:
        return int((await session.execute(select(func.count(SubscriptionPeriod.id)))).scalar_one())


async def _repeats(shop: Shop) -> int:
    return await _count(shop, PaymentEvent.event == "repeat:stars_charge")


async def _expiry(shop: Shop, user: FakeUser) -> datetime:
    async with shop.service.sessionmaker() as session:
        sub = (
            await session.execute(
                select(Subscription).where(Subscription.user_id == str(user.user_id))
            )
        ).scalar_one()
    return sub.expires_at


async def _invoice_link(user: FakeUser) -> tuple[str, ChatMessage]:
    await user.send("/subscribe")
    plans = await user.wait_reply()
    assert any("100 ⭐" in text for text in plans.button_texts())
    await user.press("100 ⭐", contains=True)
    pay = await user.wait_for(lambda m: "⭐ Оплатить 100 ⭐" in m.button_texts(), timeout=10)
    link = await user.press("⭐ Оплатить 100 ⭐", pay)
    assert isinstance(link, str)
    return link, pay


def _confirmations(user: FakeUser) -> int:
    return sum(PAID in (m.text or "") for m in user.chat.bot_messages)


@pytest.mark.slow
async def test_stars_monthly_bought_renewed_once_each_refunded_and_canceled(
    make_shop: ShopFactory, clock: MovableClock
) -> None:
    shop = await make_shop(clock=clock)
    stars = FakeStars.attach(shop.telegram)
    user = shop.telegram.user(3101, first_name="Вера")

    link, _ = await _invoice_link(user)
    invoice = stars.invoices[link]
    assert (invoice.currency, invoice.amount) == ("XTR", 100)
    assert invoice.subscription_period == STARS_PERIOD
    sent = shop.telegram.calls("createInvoiceLink")[-1]
    assert "provider_token" not in sent
    assert sent["prices"] == [{"label": "30 дней", "amount": 100}]

    # Bought: the pre-checkout is answered yes and the charge activates 30 days.
    bought = await stars.pay(user, link)
    assert bought.ok and bought.charge is not None
    await user.wait_for(lambda m: PAID in (m.text or ""), timeout=10)
    first_expiry = await _expiry(shop, user)
    assert first_expiry == clock.now() + timedelta(days=30)
    async with shop.service.sessionmaker() as session:
        payment = (
            await session.execute(
                select(Payment).where(Payment.provider_id == bought.charge.charge_id)
            )
        ).scalar_one()
    assert (payment.status, payment.currency) == ("succeeded", "XTR")
    assert payment.amount == Decimal(100)  # whole Stars, in a payment whose currency is XTR
    assert payment.payment_method == "telegram_stars"

    # Telegram redelivers the first charge: nothing more happens.
    stars.replay(bought.charge)
    await _until(lambda: _repeats_at_least(shop, 1), "the replay was seen")
    assert await _periods(shop) == 1
    assert await _expiry(shop, user) == first_expiry

    # 30 days later Telegram renews: one more period, applied once whatever the redeliveries.
    clock.advance(days=30)
    renewal = await stars.renew(bought.charge.charge_id)
    await _until(lambda: _periods_are(shop, 2), "the renewal extended the subscription")
    for _ in range(3):
        stars.replay(renewal)
    await _until(lambda: _repeats_at_least(shop, 4), "the renewal replays were seen")
    assert await _periods(shop) == 2
    assert await _expiry(shop, user) == first_expiry + timedelta(days=30)
    await user.wait_for(lambda m: _confirmations(user) == 2, timeout=10)

    clock.advance(days=30)
    second = await stars.renew(bought.charge.charge_id)
    await _until(lambda: _periods_are(shop, 3), "the second renewal extended it")
    assert await _expiry(shop, user) == first_expiry + timedelta(days=60)
    assert await _count(shop, Payment.currency == "XTR", Payment.status == "succeeded") == 3

    # A stale invoice (its time to pay is over) is refused at pre-checkout, in words.
    stale_link, _ = await _invoice_link(user)
    clock.advance(minutes=shop.settings.PAYMENT_TTL_MINUTES + 1)
    refused = await stars.pay(user, stale_link)
    assert not refused.ok
    assert refused.error_message is not None and "устарел" in refused.error_message
    assert await _periods(shop) == 3

    # A canceled invoice likewise.
    canceled_link, pay_message = await _invoice_link(user)
    await user.press("✖️ Отменить", pay_message)
    await user.wait_callback_answer()
    assert not (await stars.pay(user, canceled_link)).ok

    # /refund of the last renewal: refundStarPayment, the customer told, 30 days off.
    admin = shop.telegram.user(ADMIN_ID, first_name="Админ")
    async with shop.service.sessionmaker() as session:
        second_id = (
            await session.execute(select(Payment.id).where(Payment.provider_id == second.charge_id))
        ).scalar_one()
    await admin.send(f"/refund {second_id}")
    done = await admin.wait_for(lambda m: "Возвращено" in (m.text or ""), timeout=10)
    assert "100 ⭐" in (done.text or "")
    assert stars.refunds == [(user.user_id, second.charge_id)]
    await user.wait_for(
        lambda m: "100 ⭐" in (m.text or "") and "⭐ Оплатить" not in (m.text or "")
    )
    # The refunded period is the running one: taken off, the subscription ends now.
    assert await _expiry(shop, user) == clock.now()
    await admin.send(f"/refund {second_id}")
    again = await admin.wait_for(lambda m: "нельзя вернуть" in (m.text or ""), timeout=10)
    assert again is not None
    assert len(stars.refunds) == 1

    # /my: turning auto-renewal off calls editUserStarSubscription; Telegram renews no more.
    await user.send("/my")
    my = await user.wait_reply()
    await user.press("✖️ Отключить автопродление (звёзды)", my)
    await user.wait_for(lambda m: "Автопродление отключено" in (m.text or ""), timeout=10)
    assert stars.subscription_edits == [(user.user_id, bought.charge.charge_id, True)]
    with pytest.raises(FakeApiError):
        await stars.renew(bought.charge.charge_id)


async def _repeats_at_least(shop: Shop, count: int) -> bool:
    return await _repeats(shop) >= count


async def _periods_are(shop: Shop, count: int) -> bool:
    return await _periods(shop) == count
