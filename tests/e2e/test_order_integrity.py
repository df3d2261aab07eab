"""Order integrity, driven as a customer through the local Telegram and YooKassa.

One order per journey (a pay or plan button pressed twice reuses the pending payment), and a
pay button is only live while paying is possible: /cancel, expiry, a decline and a success
each retire it, say what happened and offer the next step.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.outbox_delivery import TelegramDelivery
from db.models import Order, Payment, Ticket
from payments.catalog import load_catalog
from payments.outbox.notes import to_payload
from payments.outbox.outcomes import Envelope
from payments.ports import IssuedTicket, Recipient, TicketsIssued
from tests.conftest import MovableClock
from tests.e2e.conftest import Shop, ShopFactory
from tests.e2e.test_tickets import _choose, _pay_id, _to_payment, _to_summary
from tests.fakes.telegram_api import ChatMessage, FakeTelegramAPI, FakeUser

NEXT_STEPS = ("Мои билеты", "Купить ещё", "В меню")


async def _count(shop: Shop, model: type[Order] | type[Payment] | type[Ticket]) -> int:
    async with shop.service.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def _now(user: FakeUser, message: ChatMessage) -> ChatMessage:
    """The message as the chat shows it now (its latest text and markup)."""
    live = user.chat.get(message.message_id)
    assert live is not None
    return live


def _live_pay_buttons(user: FakeUser) -> list[str]:
    return [b for m in user.chat.bot_messages for b in m.button_texts() if b.startswith("💳 Опл")]


def _offers_next_steps(message: ChatMessage) -> bool:
    texts = " ".join(message.button_texts())
    return all(step in texts for step in NEXT_STEPS)


def _retired(message: ChatMessage) -> bool:
    return not any("💳" in b or "Отменить" in b for b in message.button_texts())


async def test_double_tap_on_the_pay_step_makes_one_order(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(13001)
    await _choose(user, shop, adults=2)
    summary = await _to_summary(user)
    await user.press("💳 Перейти к оплате", summary)
    await user.press("💳 Перейти к оплате", summary)
    await user.wait_for(lambda m: any("💳 Оплатить" in b for b in m.button_texts()), timeout=10)
    await user.wait_callback_answer()  # the second tap's answer: both taps are handled
    assert await _count(shop, Order) == 1
    assert await _count(shop, Payment) == 1
    assert shop.yookassa.create_count == 1
    assert len(_live_pay_buttons(user)) == 1


async def test_double_tap_on_a_plan_makes_one_payment(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(13002)
    await user.send("/subscribe")
    plans = await user.wait_reply()
    await user.press("299 ₽", plans, contains=True)
    await user.press("299 ₽", plans, contains=True)
    await user.wait_for(lambda m: any("💳" in b for b in m.button_texts()), timeout=10)
    await user.wait_callback_answer()
    assert await _count(shop, Payment) == 1
    assert shop.yookassa.create_count == 1
    assert len(_live_pay_buttons(user)) == 1
    # Pressed again from a new /subscribe while it is pending: the same payment and link, and
    # the older message no longer carries a pay button.
    await user.send("/subscribe")
    await user.wait_reply()
    await user.press("299 ₽", contains=True)
    again = await user.wait_for(
        lambda m: m.message_id != plans.message_id and any("💳" in b for b in m.button_texts()),
        timeout=10,
    )
    assert shop.yookassa.create_count == 1
    assert _live_pay_buttons(user) == [b for b in again.button_texts() if b.startswith("💳")]
    assert "ниже" in (_now(user, plans).text or "")


async def test_the_same_tickets_chosen_again_reuse_the_pending_order(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(13003)
    await _choose(user, shop, adults=2)
    first = await _to_payment(user, None)
    first_url = await user.press(next(b for b in first.button_texts() if b.startswith("💳")))
    await _choose(user, shop, adults=2)
    second = await _to_payment(user, None)
    assert second.message_id != first.message_id
    second_url = await user.press(next(b for b in second.button_texts() if b.startswith("💳")))
    assert second_url == first_url
    assert await _count(shop, Order) == 1
    assert shop.yookassa.create_count == 1
    assert _retired(_now(user, first))
    assert len(_live_pay_buttons(user)) == 1


async def test_cancel_mid_payment_retires_the_pay_button(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(13004)
    await _choose(user, shop, adults=2)
    pay_message = await _to_payment(user, None)
    provider_id = await _pay_id(user, pay_message)
    await user.send("/cancel")
    reply = await user.wait_for(lambda m: "места освобождены" in (m.text or "") and bool(m.buttons))
    assert _offers_next_steps(reply)
    shown = _now(user, pay_message)
    assert _retired(shown)
    assert "отменён" in (shown.text or "")
    assert _live_pay_buttons(user) == []

    # The checkout page was still open and the customer paid there anyway: the seats were free,
    # so they are held again and the tickets issued, and the customer is told so.
    await shop.yookassa.pay(provider_id)
    told = await user.wait_for(lambda m: "забронировали их снова" in (m.text or ""), timeout=10)
    assert "✅ Оплата получена" in (told.text or "")
    assert told.message_id > pay_message.message_id  # below the news of the cancellation
    assert await _count(shop, Ticket) == 2


async def test_an_expired_hold_is_told_and_book_again_restores_the_choices(
    make_shop: ShopFactory,
) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock, PAYMENT_TTL_MINUTES=1)
    user = shop.telegram.user(13005)
    await _choose(user, shop, adults=2, children=1)
    pay_message = await _to_payment(user, None)
    assert "1 мин" in (pay_message.text or "")
    clock.advance(minutes=2)
    report = await shop.service.payments.jobs.expire()
    assert report.changed == 1
    told = await user.wait_for(lambda m: "истекла" in (m.text or ""), timeout=10)
    assert "Забронировать снова" in " ".join(told.button_texts())
    assert _offers_next_steps(told)
    shown = _now(user, pay_message)
    assert _retired(shown)
    assert "истекло" in (shown.text or "")

    await user.press("Забронировать снова", told, contains=True)
    summary = await user.wait_for(lambda m: "Проверьте заказ" in (m.text or ""))
    assert "Взрослый" in (summary.text or "") and "Детский" in (summary.text or "")
    assert "2 500 ₽" in (summary.text or "").replace("\u2009", " ")
    await user.press("💳 Перейти к оплате", summary)
    await user.wait_for(
        lambda m: (
            m.message_id == summary.message_id and any("💳 Опл" in b for b in m.button_texts())
        ),
        timeout=10,
    )
    assert await _count(shop, Order) == 2
    assert shop.yookassa.create_count == 2
    assert len(_live_pay_buttons(user)) == 1


async def test_a_payment_after_the_hold_expired_is_told_it_was_held_again(
    make_shop: ShopFactory,
) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock, PAYMENT_TTL_MINUTES=1)
    user = shop.telegram.user(13006)
    await _choose(user, shop, adults=1)
    provider_id = await _pay_id(user, await _to_payment(user, None))
    clock.advance(minutes=2)
    await shop.service.payments.jobs.expire()
    await user.wait_for(lambda m: "истекла" in (m.text or ""), timeout=10)
    await shop.yookassa.pay(provider_id)
    told = await user.wait_for(lambda m: "забронировали их снова" in (m.text or ""), timeout=10)
    assert _offers_next_steps(told)
    await user.wait_for(lambda m: bool(m.photos), timeout=10)
    assert await _count(shop, Ticket) == 1


async def test_a_decline_retires_the_pay_button_and_offers_try_again(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(13007)
    await _choose(user, shop, adults=2)
    pay_message = await _to_payment(user, None)
    provider_id = await _pay_id(user, pay_message)
    await shop.yookassa.decline(provider_id)
    told = await user.wait_for(
        lambda m: "не прошёл" in (m.text or "") and bool(m.buttons), timeout=10
    )
    assert "Попробовать снова" in " ".join(told.button_texts())
    assert _offers_next_steps(told)
    shown = _now(user, pay_message)
    assert _retired(shown)
    assert "не прошёл" in (shown.text or "")

    await user.press("Попробовать снова", told, contains=True)
    # Same order, new payment: its pay message arrives at the bottom, the notice keeps its text.
    retry = await user.wait_for(
        lambda m: m.message_id > told.message_id and any("💳 Опл" in b for b in m.button_texts()),
        timeout=10,
    )
    assert not _now(user, told).button_texts()
    assert shop.yookassa.create_count == 2
    new_provider_id = await _pay_id(user, retry)
    assert new_provider_id != provider_id
    await shop.yookassa.pay(new_provider_id)
    await user.wait_for(lambda m: "✅ Оплата получена" in (m.text or ""), timeout=10)
    assert await _count(shop, Ticket) == 2


async def test_a_success_retires_the_pay_button_and_offers_the_next_steps(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(13008)
    await _choose(user, shop, adults=1)
    pay_message = await _to_payment(user, None)
    await shop.yookassa.pay(await _pay_id(user, pay_message))
    done = await user.wait_for(lambda m: "✅ Оплата получена" in (m.text or ""), timeout=10)
    # The pay message itself becomes the confirmation (one call to Telegram, not two), its pay
    # and cancel buttons replaced by the next steps; the QR code follows as a new message.
    assert done.message_id == pay_message.message_id
    assert _offers_next_steps(done)
    assert _retired(done)
    qr = await user.wait_for(lambda m: bool(m.photos), timeout=10)
    assert qr.message_id > pay_message.message_id
    assert [
        m.message_id for m in user.chat.bot_messages if "Оплата получена" in (m.text or "")
    ] == [pay_message.message_id]

    await user.send("/subscribe")
    plans = await user.wait_for(lambda m: "Выберите тариф" in (m.text or ""))
    await user.press("Месячная", plans, contains=True)
    plan_pay = await user.wait_for(lambda m: any("💳" in b for b in m.button_texts()), timeout=10)
    await shop.yookassa.pay(await _pay_id(user, plan_pay))
    active = await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    assert _offers_next_steps(active)
    shown = _now(user, plan_pay)
    assert (shown.text or "").startswith("✅ Оплачено")
    assert not shown.buttons
    assert _live_pay_buttons(user) == []


async def test_a_deleted_pay_message_still_gets_its_confirmation_below(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(13009)
    await _choose(user, shop, adults=1)
    pay_message = await _to_payment(user, None)
    provider_id = await _pay_id(user, pay_message)
    _now(user, pay_message).deleted = True  # the customer deleted it in their app, then paid

    await shop.yookassa.pay(provider_id)
    done = await user.wait_for(lambda m: "✅ Оплата получена" in (m.text or ""), timeout=10)
    assert done.message_id > pay_message.message_id
    assert _offers_next_steps(done)
    await user.wait_for(lambda m: bool(m.photos) and m.message_id > done.message_id, timeout=10)
    assert await _count(shop, Ticket) == 1


async def test_a_confirmation_delivered_again_shows_once(
    telegram: FakeTelegramAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # The lane delivers a row again when its instance died before marking it sent: the pay
    # message shows the confirmation already (Telegram: "message is not modified"), and the
    # customer gets no second one. Delivered as the lane does (bot/outbox_delivery.py).
    bot = create_bot(telegram.token, telegram.base_url)
    deliver = TelegramDelivery(
        bot=bot, catalog=load_catalog(), tz=ZoneInfo("Europe/Moscow"), sessionmaker=sessionmaker
    ).deliverers()["tickets_issued"]
    customer = telegram.user(13010)
    button = InlineKeyboardButton(text="💳 Оплатить", url="https://yoomoney.ru/checkout")
    ticket = IssuedTicket("T1", "adult", date(2026, 12, 6), "10:00", "qr")
    try:
        pay = await bot.send_message(
            13010, "Заказ ZT_1", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
        )
        note = TicketsIssued(Recipient("13010", "ru", pay.message_id), "ZT_1", None, (ticket,))
        for attempt in (1, 2):
            await deliver(Envelope(1, "tickets_issued", 13010, to_payload(note), attempt))
    finally:
        await bot.session.close()

    shown = customer.chat.bot_messages
    assert [m.message_id for m in shown] == [pay.message_id]
    assert "✅ Оплата получена" in (shown[0].text or "")
    assert _offers_next_steps(shown[0])
    assert len(telegram.calls("editMessageText")) == 2
