"""The admin console in the admin's words, end to end (issue 13): /refund asks first, any id
finds a payment, statuses, cohorts and events read as words, amounts as people type them, and
ticket codes a gatekeeper can type.

The real Bot and SDK against the local Telegram and YooKassa.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal

from db.models import Payment
from tests.conftest import MovableClock
from tests.e2e.admin_chat import (
    ask,
    buy_plan,
    buy_tickets,
    plain_text,
    seats_held,
    shop_day,
    tickets_of,
)
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory
from tests.fakes.telegram_api import ChatMessage, FakeUser

CONFIRM = "✅ Вернуть"
CANCEL = "✖️ Отмена"
CODE = re.compile(r"^ZT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def refund_posts(shop: Shop) -> int:
    """How many refunds the bot asked YooKassa for."""
    return sum(1 for r in shop.yookassa.requests if r.method == "POST" and r.path == "/v3/refunds")


async def payment_of(shop: Shop, payment_id: str) -> Payment:
    async with shop.service.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
    assert payment is not None
    return payment


async def confirmation(admin: FakeUser, command: str) -> ChatMessage:
    """Send a /refund and return its confirmation (the message with the two buttons)."""
    await admin.send(command)
    message = await admin.wait_reply(timeout=10)
    assert [b for b in message.button_texts() if b.startswith(CONFIRM)], plain_text(message)
    assert CANCEL in message.button_texts()
    return message


async def outcome(admin: FakeUser, message: ChatMessage) -> str:
    """Wait until a confirmation is edited into its outcome (buttons gone) and return it."""
    done = await admin.wait_for(
        lambda m: (
            m.message_id == message.message_id
            and not m.buttons
            and not (m.text or "").startswith("⏳")
        ),
        timeout=10,
    )
    return plain_text(done)


async def test_refund_says_what_it_will_do_and_moves_money_only_on_confirm(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    payment_id = await buy_tickets(shop, 6101, adults=3)
    payment = await payment_of(shop, payment_id)
    order_id, provider_id = payment.order_id, payment.provider_id
    assert order_id and provider_id
    visit = shop_day(shop, 1)
    admin = shop.telegram.user(ADMIN_ID)
    ids = f"Заказ {order_id} · платёж {payment_id} · ЮKassa {provider_id}"

    # A partial refund by the order number customers see, with a comma.
    partial = await confirmation(admin, f"/refund {order_id} 249,50")
    text = plain_text(partial)
    assert text.startswith("💸 Вернуть 249,50 ₽ из 3 000 ₽?"), text
    assert ids in text and "Покупатель: Anna (6101)" in text
    assert "После возврата останется 2 750,50 ₽" in text
    assert "3 билета остаются в силе" in text
    assert "✅ Вернуть 249,50 ₽" in partial.button_texts()
    # The same refund by YooKassa's id, confirmed later: it goes stale.
    stale = await confirmation(admin, f"/refund {provider_id} 500")
    assert ids in plain_text(stale)
    assert refund_posts(shop) == 0  # asking moved no money

    await admin.press(CONFIRM, partial, contains=True)
    done = await outcome(admin, partial)
    assert "Возврат #1 на 249,50 ₽" in done and "выполнен" in done, done
    assert ids in done
    assert refund_posts(shop) == 1

    # The payment changed since the second confirmation was shown: it says so and refunds nothing.
    await admin.press(CONFIRM, stale, contains=True)
    said = await outcome(admin, stale)
    assert "Возврат не выполнен" in said and "возвращено 249,50 ₽ из 3 000 ₽" in said, said
    assert refund_posts(shop) == 1
    assert (await payment_of(shop, payment_id)).refunded_amount == Decimal("249.50")

    # All that is left, by our id: tickets voided and seats returned, then canceled.
    full = await confirmation(admin, f"/refund {payment_id}")
    text = plain_text(full)
    assert text.startswith("💸 Вернуть 2 750,50 ₽ из 3 000 ₽?"), text
    assert "Уже возвращено: 249,50 ₽" in text
    assert "Будет аннулировано: 3 билета из 3" in text
    assert f"3 места вернутся в продажу ({visit.day} " in text
    await admin.press(CANCEL, full)
    assert "деньги не двигались" in await outcome(admin, full)
    assert refund_posts(shop) == 1
    assert {t.status for t in await tickets_of(shop, payment_id)} == {"valid"}
    assert await seats_held(shop, visit) == 3
    # A confirm that an older keyboard still carries does nothing after a cancel.
    data = str(full.find_button(CONFIRM, contains=True)["callback_data"])  # type: ignore[index]
    await admin.press_data(data)
    answer = await admin.wait_callback_answer()
    assert answer.show_alert and "уже использовано или отменено" in (answer.text or "")
    assert refund_posts(shop) == 1

    # A double tap on Confirm refunds once.
    again = await confirmation(admin, f"/refund {order_id}")
    answers = admin.chat.callback_answers
    before = len(answers)
    await admin.press(CONFIRM, again, contains=True)
    await admin.press(CONFIRM, again, contains=True)
    done = await outcome(admin, again)
    assert "выполнен" in done and "Билеты: аннулировано 3 из 3" in done, done

    def both_answered() -> bool | None:
        return len(answers) >= before + 2 or None

    await admin.chat.signal.wait_until(both_answered, 10)
    assert ["уже использовано" in (a.text or "") for a in answers[before:]].count(True) == 1
    assert refund_posts(shop) == 2
    assert (await payment_of(shop, payment_id)).refunded_amount == Decimal("3000.00")
    assert {t.status for t in await tickets_of(shop, payment_id)} == {"refunded"}
    assert await seats_held(shop, visit) == 0
    await shop.yookassa.wait_notifications()
    assert len(shop.yookassa.refunds) == 2


async def test_a_refused_refund_asks_nothing(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    payment_id = await buy_plan(shop, 6201)
    admin = shop.telegram.user(ADMIN_ID)
    await admin.send(f"/refund {payment_id} 300")
    too_much = await admin.wait_reply()
    assert "вернуть можно только 299 ₽" in plain_text(too_much) and not too_much.buttons
    assert "Использование: /refund" in await ask(admin, f"/refund {payment_id} 0,00")
    assert "Использование: /refund" in await ask(admin, f"/refund {payment_id} 1,999")
    # A subscription refund says what it does to the subscription.
    half = await confirmation(admin, f"/refund {payment_id} 149.5")
    assert "Подписка станет короче на 15 дней" in plain_text(half), plain_text(half)
    assert refund_posts(shop) == 0
    view = await ask(admin, f"/payment {payment_id}")
    assert f"{ADMIN_ID} предпросмотр возврата: ждёт подтверждения" in view, view
    assert "возврат: refused:" in view  # the refused /refund, with its note


async def test_checkin_takes_a_code_typed_with_spaces_or_lower_case(
    make_shop: ShopFactory,
) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock)
    payment_id = await buy_tickets(shop, 6301, adults=3, days=1)
    tickets = await tickets_of(shop, payment_id)
    assert all(CODE.match(t.code) for t in tickets), [t.code for t in tickets]
    assert len({t.code for t in tickets}) == 3
    clock.set(datetime.combine(shop_day(shop, 1, clock.now()), time(9, 0), tzinfo=shop.settings.tz))
    admin = shop.telegram.user(ADMIN_ID)
    payment = await payment_of(shop, payment_id)

    first, second, third = (t.code for t in tickets)
    spaced = " ".join(first.lower().split("-"))  # "zt 7k3m 9qxd 2fab"
    let_in = await ask(admin, f"/checkin {spaced}")
    assert let_in.startswith("✅ Проходите!"), let_in
    assert f"Заказ {payment.order_id} · платёж {payment_id} · ЮKassa {payment.provider_id}" in (
        let_in
    )
    # Without the prefix and the dashes, lower case, zeros and ones typed as O and l.
    typed = second[3:].replace("-", "").lower().replace("0", "o").replace("1", "l")
    assert (await ask(admin, f"/checkin {typed}")).startswith("✅ Проходите!")
    assert (await ask(admin, f"/checkin {spaced.upper()}")).startswith("⛔ Билет уже прошёл")
    # Exactly as printed still works, of course.
    assert (await ask(admin, f"/checkin {third}")).startswith("✅ Проходите!")
    assert "не найден" in await ask(admin, "/checkin ZT-0000-0000-0000")
    assert [t.status for t in await tickets_of(shop, payment_id)] == ["used"] * 3


async def test_payment_and_stats_speak_in_words(make_shop: ShopFactory) -> None:
    shop = await make_shop(ADMIN_IDS=f"{ADMIN_ID},{ADMIN_ID + 1}")
    plan_id = await buy_plan(shop, 6401)
    admin = shop.telegram.user(ADMIN_ID)

    view = await ask(admin, f"/payment {plan_id}")
    assert "Статус: оплачен" in view, view
    assert "когорта новые клиенты" in view
    assert "бот: платёж создан (теперь: ожидает оплаты)" in view, view
    assert "оплачен (ожидает оплаты → оплачен)" in view, view
    assert "Подписка сейчас: активна" in view
    for code in ("succeeded", "pending", "∅", "cohort new", "bot:", "webhook:"):
        assert code not in view, (code, view)

    await admin.send("/stats")
    stats = plain_text(await admin.wait_for(lambda m: bool(m.photos), timeout=15))
    assert "Подписки за 30 дней по когортам: новые клиенты — 1" in stats, stats

    english = shop.telegram.user(ADMIN_ID + 1, language_code="en")
    view = await ask(english, f"/payment {plan_id}")
    assert "Status: paid" in view and "cohort new customers" in view, view
    assert "bot: payment created (now: awaiting payment)" in view, view
    # Only the fiscal description (sent to YooKassa as is) stays Russian.
    lines = [line for line in view.splitlines() if not line.startswith("Description:")]
    assert not re.search("[а-яА-ЯёЁ]", "\n".join(lines)), view
    await english.send("/stats")
    stats = plain_text(await english.wait_for(lambda m: bool(m.photos), timeout=15))
    assert "Subscriptions of 30 days per cohort: new customers — 1" in stats, stats


async def test_setprice_takes_amounts_as_people_type_them(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    admin = shop.telegram.user(ADMIN_ID)
    done = await ask(admin, "/setprice new monthly 249,50")
    assert "299 ₽ → 249,50 ₽" in done and "новые клиенты (new)" in done, done
    assert "→ 249,50 ₽" in await ask(admin, "/setprice regular monthly 249.5")
    assert "новые клиенты (new): 249,50 ₽ (изменена)" in await ask(admin, "/prices")
    for wrong in ("249,505", "0", "-5", "249.", "2e2", "２４９"):
        reply = await ask(admin, f"/setprice new monthly {wrong}")
        assert "Использование: /setprice" in reply, (wrong, reply)
    newcomer = shop.telegram.user(6501)
    await newcomer.send("/subscribe")
    plans = await newcomer.wait_reply()
    assert any("249,50 ₽" in b for b in plans.button_texts()), plans.button_texts()
