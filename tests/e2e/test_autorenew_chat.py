"""Auto-renewal driven as a customer in the chat: the real Bot and SDK against the local
Telegram and YooKassa, time moved by the test clock (the fake YooKassa reads it too)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from bot.callbacks import RenewPayCb
from bot.texts import day
from db.models_subscriptions import RenewalConsent, Subscription, SubscriptionPeriod
from handlers.autorenew import TERMS_VERSION
from tests.conftest import MovableClock
from tests.e2e.conftest import Shop, ShopFactory
from tests.fakes.telegram_api import ChatMessage, FakeUser

pytestmark = pytest.mark.slow


def _creates(shop: Shop) -> list[dict[str, Any]]:
    seen: dict[str | None, dict[str, Any]] = {}
    for r in shop.yookassa.requests:
        if r.method == "POST" and r.path == "/v3/payments":
            seen.setdefault(r.idempotence_key, r.body)
    return list(seen.values())


def _charges(shop: Shop) -> list[dict[str, Any]]:
    return [body for body in _creates(shop) if body.get("payment_method_id")]


async def _sub(shop: Shop, user_id: str) -> Subscription:
    async with shop.service.sessionmaker() as session:
        found = await session.execute(select(Subscription).where(Subscription.user_id == user_id))
        return found.scalar_one()


def _has_pay(m: ChatMessage) -> bool:
    return any(b.startswith("💳") for b in m.button_texts())


async def _pay(shop: Shop, user: FakeUser, message: ChatMessage) -> None:
    url = await user.press(next(b for b in message.button_texts() if b.startswith("💳")), message)
    assert isinstance(url, str)
    await shop.yookassa.pay(parse_qs(urlparse(url).query)["orderId"][0])


async def _buy_with_auto_renew(shop: Shop, user: FakeUser) -> str:
    """Toggle on, pick the monthly plan, read the terms, agree, pay; return the terms."""
    await user.send("/subscribe")
    await user.wait_reply()
    await user.press("Автопродление: выкл", contains=True)
    await user.wait_for(lambda m: "Автопродление: вкл" in " ".join(m.button_texts()))
    await user.press("299 ₽", contains=True)
    terms = await user.wait_for(lambda m: "Условия автопродления" in (m.text or ""))
    terms_text = terms.text
    await user.press("Согласен", contains=True)
    pay_message = await user.wait_for(_has_pay, timeout=10)
    await _pay(shop, user, pay_message)
    await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    return terms_text or ""


async def test_opt_in_shows_the_terms_and_saves_the_card(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(7101)
    text = await _buy_with_auto_renew(shop, user)
    assert "299 ₽" in text and "30 дней" in text
    assert "Следующее списание" in text and "/my" in text
    [created] = _creates(shop)
    assert created["save_payment_method"] is True
    sub = await _sub(shop, "7101")
    assert (sub.auto_renew, sub.renew_method_title) == (True, "Карта *4444")
    async with shop.service.sessionmaker() as session:
        consent = (await session.execute(select(RenewalConsent))).scalar_one()
    assert (consent.channel, consent.text_version) == ("bot", TERMS_VERSION)
    await user.send("/my")
    my = await user.wait_reply()
    assert "Автопродление включено, карта Карта *4444" in (my.text or "")
    assert "Отключить автопродление" in my.button_texts()


async def test_one_off_purchase_is_still_two_taps_and_saves_nothing(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(7102)
    await user.send("/subscribe")
    await user.wait_reply()
    await user.press("299 ₽", contains=True)  # tap 1: the plan
    pay_message = await user.wait_for(_has_pay, timeout=10)
    await _pay(shop, user, pay_message)  # tap 2: pay
    await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    [created] = _creates(shop)
    assert "save_payment_method" not in created
    sub = await _sub(shop, "7102")
    assert (sub.auto_renew, sub.renew_method_id) == (False, None)
    await user.send("/my")
    my = await user.wait_reply()
    assert "Автопродление" not in (my.text or "")


async def test_notice_then_turning_off_from_my_means_no_charge(make_shop: ShopFactory) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock)
    shop.yookassa.clock = clock.now
    user = shop.telegram.user(7103)
    await _buy_with_auto_renew(shop, user)
    ends = (await _sub(shop, "7103")).expires_at
    clock.set(ends - timedelta(days=2, hours=12))
    await shop.service.payments.jobs.remind()
    notice = await user.wait_for(lambda m: "мы спишем" in (m.text or ""))
    text = notice.text or ""
    assert "299 ₽" in text and "Карта *4444" in text
    charge = (ends - timedelta(hours=24)).astimezone(shop.settings.tz).date()
    assert day("ru", charge) in text
    assert notice.button_texts() == ["Отключить автопродление", "Сменить карту"]

    await user.send("/my")
    my = await user.wait_for(lambda m: "Автопродление включено" in (m.text or ""))
    await user.press("Отключить автопродление", my)
    await user.wait_for(lambda m: "Автопродление отключено" in (m.text or ""))
    # The notice's button is stale now: it answers what happened.
    await user.press("Отключить автопродление", notice)
    answer = await user.wait_callback_answer()
    assert "уже отключено" in (answer.text or "")

    clock.set(ends - timedelta(hours=23))
    await shop.service.payments.renewals.run()
    clock.set(ends + timedelta(hours=1))
    await shop.service.payments.renewals.run()
    assert _charges(shop) == []
    assert (await _sub(shop, "7103")).expires_at == ends


async def test_declined_renewal_is_told_and_pay_now_restores_once(make_shop: ShopFactory) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock)
    shop.yookassa.clock = clock.now
    user = shop.telegram.user(7104)
    await _buy_with_auto_renew(shop, user)
    sub = await _sub(shop, "7104")
    ends = sub.expires_at
    assert sub.renew_method_id is not None
    shop.yookassa.fail_method(sub.renew_method_id, "insufficient_funds")
    clock.set(ends - timedelta(hours=23))
    await shop.service.payments.renewals.run()
    told = await user.wait_for(lambda m: "Не удалось продлить" in (m.text or ""))
    text = told.text or ""
    assert "не хватило денег" in text
    assert "Попробуем списать ещё раз" in text
    assert "Доступ сохранится до" in text
    assert told.button_texts() == ["💳 Оплатить 299 ₽"]

    button = told.find_button("💳 Оплатить 299 ₽")
    assert button is not None
    pay_now = str(button["callback_data"])
    assert RenewPayCb.unpack(pay_now).renewal_id > 0
    await user.press("💳 Оплатить 299 ₽", told)
    with_link = await user.wait_for(
        lambda m: m.message_id == told.message_id and "✖️ Отменить" in m.button_texts()
    )
    await _pay(shop, user, with_link)
    await user.wait_for(
        lambda m: m.message_id != told.message_id and "активна до" in (m.text or "")
    )
    after = await _sub(shop, "7104")
    assert after.expires_at == ends + timedelta(days=30)
    async with shop.service.sessionmaker() as session:
        periods = (await session.execute(select(func.count(SubscriptionPeriod.id)))).scalar_one()
    assert periods == 2
    # The same renewal cannot be paid twice: the old pay-now button says so.
    await user.press_data(pay_now)
    answer = await user.wait_callback_answer()
    assert "уже оплачено" in (answer.text or "")
