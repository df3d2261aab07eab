"""No dead ends (issue 13), driven as a customer through the local Telegram and YooKassa:
menu commands end a journey, typed answers, next steps under final messages, the e-mail
summary at the bottom, unpaid orders in /my, the calendar, the shop's address and hours."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.texts import day
from db.models import Payment
from tests.e2e.conftest import ShopFactory
from tests.e2e.dates import calendar_message, month_heading, pick_day
from tests.e2e.test_tickets import _choose, _held, _pay_id, _to_payment, _visit_day
from tests.fakes.telegram_api import ChatMessage, FakeUser

STOPPED = "✖️ Покупка билетов прервана."
NEXT_STEPS = ["🎟 Мои билеты", "🛒 Купить ещё", "⬅️ В меню"]


def _plain(text: str) -> str:
    return text.replace("\u2009", " ").replace("\xa0", " ")


def _text(message: ChatMessage) -> str:
    return _plain(message.text or "")


def _buttons(message: ChatMessage) -> list[str]:
    return [_plain(text) for text in message.button_texts()]


def _catalog(tmp_path: Path, *, closed: int | None = None, one_type: bool = False) -> Path:
    """The built-in catalog with a closed weekday, or with adult tickets only."""
    text = resources.files("payments").joinpath("catalog_default.toml").read_text("utf-8")
    if closed is not None:
        assert "closed_weekdays = []" in text
        text = text.replace("closed_weekdays = []", f"closed_weekdays = [{closed}]")
    if one_type:
        head, adult, *_ = text.split("[[tickets.types]]")
        text = f"{head}[[tickets.types]]{adult}{text[text.index('[[plans]]') :]}"
    path = tmp_path / "catalog.toml"
    path.write_text(text, "utf-8")
    return path


def _live(user: FakeUser, message: ChatMessage) -> ChatMessage:
    live = user.chat.get(message.message_id)
    assert live is not None
    return live.snapshot()


async def test_start_and_my_mid_journey_end_it_and_say_so(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(4301)
    await user.send("/tickets")
    await user.wait_reply()
    await pick_day(user, _visit_day(shop))
    slots = await user.wait_reply()
    assert "Выберите время входа" in _text(slots)

    await user.send("/start")
    said = await user.wait_for(lambda m: m.text == STOPPED and not m.edited)
    menu = await user.wait_for(lambda m: "Здравствуйте" in (m.text or ""))
    assert said.message_id < menu.message_id
    assert "🎟 Билеты" in menu.button_texts()
    old = _live(user, slots)
    assert (old.text, old.buttons) == (STOPPED, [])
    # The journey is over: an old slot button is out of date, not a booking.
    await user.press_data("ts:1000", "10:00 · свободно 100")
    answer = await user.wait_callback_answer()
    assert answer.text and "устарела" in answer.text

    # /my at the e-mail step ends the journey too: the address is no longer awaited.
    await _choose(user, shop, adults=1)
    email_step = user.last_message
    await user.send("/my")
    await user.wait_for(lambda m: m.text == STOPPED and not m.edited)
    mine = await user.wait_for(lambda m: "⬅️ В меню" in m.button_texts())
    assert "У вас пока нет" in _text(mine)
    assert not _live(user, email_step).buttons
    await user.send("anna@example.com")
    reply = await user.wait_reply()
    assert "Не понимаю" in _text(reply)


async def test_typed_date_time_and_quantity_point_at_buttons_or_move_on(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(4302)
    await user.send("/tickets")
    picker = await user.wait_reply()

    await user.send("в 12")  # a time where a date is expected
    hint = await user.wait_for(lambda m: "Выберите дату кнопкой" in _text(m))
    again = await user.wait_for(
        lambda m: "Выберите дату визита" in _text(m) and m.message_id > hint.message_id
    )
    assert not _live(user, picker).buttons
    assert user.last_message.message_id == again.message_id

    await user.send("завтра")
    tomorrow = _visit_day(shop)
    slots = await user.wait_for(lambda m: "Выберите время входа" in _text(m))
    assert day("ru", tomorrow) in _text(slots)
    assert slots.message_id > again.message_id
    assert _live(user, again).text == f"📅 {day('ru', tomorrow)}"

    await user.send("в полдень")
    await user.wait_for(lambda m: "Выберите время кнопкой" in _text(m))
    slots_again = await user.wait_for(
        lambda m: "Выберите время входа" in _text(m) and m.message_id > slots.message_id
    )
    await user.send("в 12")
    quantities = await user.wait_for(lambda m: "Выберите билеты" in _text(m))
    assert "12:00" in _text(quantities)
    assert _live(user, slots_again).text == f"📅 {day('ru', tomorrow)}, 12:00"

    await user.send("2")  # three ticket types: two of which?
    await user.wait_for(lambda m: "Укажите количество" in _text(m))
    await user.wait_for(
        lambda m: "Выберите билеты" in _text(m) and m.message_id > quantities.message_id
    )
    await user.send("2 взрослых")
    counted = await user.wait_for(lambda m: "Взрослый: 2" in m.button_texts())
    assert "Итого: 2 000 ₽" in _text(counted)
    await user.press("Далее ➡️", counted)
    await user.wait_for(lambda m: "Отправьте e-mail" in _text(m))


async def test_a_number_is_the_answer_when_one_ticket_type_is_sold(
    make_shop: ShopFactory, tmp_path: Path
) -> None:
    shop = await make_shop(CATALOG_PATH=str(_catalog(tmp_path, one_type=True)))
    user = shop.telegram.user(4303)
    await user.send("/tickets")
    await user.wait_reply()
    await user.send("tomorrow")
    await user.wait_for(lambda m: "Выберите время входа" in _text(m))
    await user.send("12:00")
    quantities = await user.wait_for(lambda m: "Выберите билеты" in _text(m))
    await user.send("2")
    email = await user.wait_for(lambda m: "Отправьте e-mail" in _text(m))
    assert email.message_id > quantities.message_id
    assert _text(_live(user, quantities)) == "Взрослый: 2 × 1 000 ₽"
    await user.press("Пропустить", email)
    summary = await user.wait_for(lambda m: "Проверьте заказ" in _text(m))
    assert "Итого: 2 000 ₽" in _text(summary)


async def test_final_messages_offer_next_steps_that_work(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(4304)
    await user.send("/cancel")
    nothing = await user.wait_reply()
    assert "Отменять нечего" in _text(nothing)
    assert nothing.button_texts() == NEXT_STEPS
    await user.press("🎟 Мои билеты", nothing)
    mine = await user.wait_for(lambda m: "У вас пока нет" in _text(m))
    assert mine.message_id > nothing.message_id
    kept = _live(user, nothing)
    assert "Отменять нечего" in _text(kept) and not kept.buttons

    await user.send("/cancel")
    nothing = await user.wait_reply()
    await user.press("⬅️ В меню", nothing)
    menu = await user.wait_for(lambda m: "Главное меню" in _text(m))
    assert menu.message_id > nothing.message_id and "🎟 Билеты" in menu.button_texts()

    await user.send("/cancel")
    nothing = await user.wait_reply()
    await user.press("🛒 Купить ещё", nothing)
    picker = await user.wait_for(lambda m: "Выберите дату визита" in _text(m))
    assert picker.message_id > nothing.message_id
    # The journey's own Cancel button ends on the next steps too.
    await user.press("✖️ Отменить", picker)
    canceled = await user.wait_for(lambda m: "Покупка отменена" in _text(m))
    assert canceled.button_texts() == NEXT_STEPS

    # Paid: the confirmation says where and when the zoo opens, and what to do next.
    await _choose(user, shop, adults=1)
    provider_id = await _pay_id(user, await _to_payment(user, None))
    await shop.yookassa.pay(provider_id)
    paid = await user.wait_for(lambda m: "✅ Оплата получена" in _text(m), timeout=10)
    assert paid.button_texts() == NEXT_STEPS
    assert "📍 Адрес: Москва, ул. Большая Грузинская, 1" in _text(paid)
    assert "🕘 Часы работы: ежедневно с 9:00 до 20:00" in _text(paid)
    await user.press("🎟 Мои билеты", paid)
    mine = await user.wait_for(lambda m: "Ваши билеты" in _text(m))
    assert any(b.startswith("🔳") for b in mine.button_texts())


async def test_a_decline_offers_try_again_with_the_same_order(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(4305)
    await _choose(user, shop, adults=2)
    pay_message = await _to_payment(user, None)
    order_id = re.search(r"ZT-\d{8}-\d{3}", _text(pay_message))
    assert order_id is not None
    provider_id = await _pay_id(user, pay_message)
    await shop.yookassa.decline(provider_id)
    # The pay message itself now says so too (without buttons): wait for the notice under it.
    declined = await user.wait_for(
        lambda m: "не прошёл" in _text(m) and bool(m.buttons), timeout=10
    )
    assert declined.button_texts() == ["🔁 Попробовать снова", *NEXT_STEPS]
    visit = _visit_day(shop)
    assert await _held(shop, visit) == 0

    # A double tap: one new payment for the same order, its seats held again.
    before = len(user.callback_answers)
    await user.press("🔁 Попробовать снова", declined)
    await user.press("🔁 Попробовать снова", declined)
    again = await user.wait_for(
        lambda m: (
            any(b.startswith("💳 Оплатить") for b in m.button_texts())
            and m.message_id > declined.message_id
        ),
        timeout=10,
    )
    assert order_id.group(0) in _text(again)
    assert "2 000 ₽" in _text(again)
    # Both taps answered: one made the payment, the other points at it.
    answers = await user.chat.signal.wait_until(
        lambda: answers[before:] if len(answers := user.callback_answers) >= before + 2 else None,
        timeout=5,
    )
    tapped = sorted(answer or "" for answer in answers)
    assert tapped[0] == "" and ("ждёт оплаты" in tapped[1] or "создаётся" in tapped[1]), tapped
    assert not _live(user, declined).buttons
    async with shop.service.sessionmaker() as session:
        rows = (await session.execute(select(Payment).order_by(Payment.created_at))).scalars().all()
    assert [(p.order_id, p.status) for p in rows] == [
        (order_id.group(0), "canceled"),
        (order_id.group(0), "pending"),
    ]
    created = [r for r in shop.yookassa.requests if r.path.endswith("/payments")]
    assert len(created) == 2
    assert await _held(shop, visit) == 2
    assert sum("💳 Оплатить" in " ".join(m.button_texts()) for m in user.messages) == 1
    # A later tap on the old button points at the payment already waiting.
    await user.press_data(f"rt:{rows[0].id}", "🔁 Попробовать снова")
    answer = await user.wait_callback_answer()
    assert answer.text and "ждёт оплаты" in answer.text
    assert len([r for r in shop.yookassa.requests if r.path.endswith("/payments")]) == 2
    assert sum("💳 Оплатить" in " ".join(m.button_texts()) for m in user.messages) == 1

    await shop.yookassa.pay(await _pay_id(user, again))
    paid = await user.wait_for(lambda m: "✅ Оплата получена" in _text(m), timeout=10)
    assert order_id.group(0) in _text(paid)


async def test_typed_email_sends_the_summary_at_the_bottom(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(4306)
    await _choose(user, shop, adults=1)
    email_step = user.last_message
    assert "Отправьте e-mail" in _text(email_step)
    await user.send("olga@example.com")
    summary = await user.wait_for(lambda m: "Проверьте заказ" in _text(m))
    assert summary.message_id > email_step.message_id
    assert user.last_message.message_id == summary.message_id
    old = _live(user, email_step)
    assert (old.text, old.buttons) == ("✉️ e-mail: olga@example.com", [])
    await user.press("💳 Перейти к оплате", summary)
    await user.wait_for(lambda m: any("💳 Оплатить" in b for b in m.button_texts()), timeout=10)


async def test_my_lists_unpaid_orders_with_time_left_pay_and_cancel(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(4307)
    await _choose(user, shop, adults=2)
    first = await _to_payment(user, None)
    first_url = next(b["url"] for row in first.buttons for b in row if "url" in b)
    await _choose(user, shop, adults=1, days=2)
    second = await _to_payment(user, None)

    await user.send("/my")
    mine = await user.wait_reply()
    text = _text(mine)
    assert "⏳ Ждут оплаты:" in text
    assert re.search(r"1\. Заказ ZT-\d{8}-\d{3}: .* · 2 000 ₽ · осталось 15 минут", text), text
    assert re.search(r"2\. Заказ ZT-\d{8}-\d{3}: .* · 1 000 ₽ · осталось 15 минут", text), text
    assert _buttons(mine)[:4] == [
        "💳 Оплатить 1: 2 000 ₽",
        "✖️ Отменить 1",
        "💳 Оплатить 2: 1 000 ₽",
        "✖️ Отменить 2",
    ]
    assert await _held(shop, _visit_day(shop, 2)) == 1

    await user.press("✖️ Отменить 2", mine)
    answer = await user.wait_callback_answer()
    assert answer.text and "отменён" in answer.text
    redrawn = await user.wait_for(lambda m: m.message_id == mine.message_id and m.edited)
    assert "2. Заказ" not in _text(redrawn)
    assert "✖️ Отменить 2" not in redrawn.button_texts()
    assert await _held(shop, _visit_day(shop, 2)) == 0
    retired = _live(user, second)
    assert not retired.buttons and "отменён" in _text(retired)

    assert _buttons(redrawn)[:2] == ["💳 Оплатить 1: 2 000 ₽", "✖️ Отменить 1"]
    url = await user.press("💳 Оплатить 1", redrawn, contains=True)
    assert url == first_url
    await shop.yookassa.pay(await _pay_id(user, first))
    await user.wait_for(lambda m: "✅ Оплата получена" in _text(m), timeout=10)
    await user.send("/my")
    mine = await user.wait_for(lambda m: "Ваши билеты" in _text(m))
    assert "Ждут оплаты" not in _text(mine)


async def test_calendar_picks_a_day_weeks_ahead_and_marks_closed_days(
    make_shop: ShopFactory, tmp_path: Path
) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Moscow")).date()  # the default TZ
    far = today + timedelta(days=20)
    closed = far - timedelta(days=1) if far.day != 1 else far + timedelta(days=6)
    shop = await make_shop(CATALOG_PATH=str(_catalog(tmp_path, closed=closed.weekday())))
    user = shop.telegram.user(4308)
    await user.send("/tickets")
    picker = await user.wait_reply()
    quick = [b["text"] for b in picker.buttons[0]]
    assert any(text.startswith("Завтра, ") for text in quick), quick
    if today.day > 1:
        # Past days are shown, but not as a day to pick.
        calendar = picker.button_texts()[len(quick) :]
        assert "1" not in calendar

    while not calendar_message(user).find_button(month_heading(far)):
        await user.press("▶️", calendar_message(user))
        await user.wait_reply()
    month = calendar_message(user)
    assert f"✖{closed.day}" in month.button_texts()
    assert str(closed.day) not in month.button_texts()
    await user.press(f"✖{closed.day}", month)
    answer = await user.wait_callback_answer()
    assert answer.text and "закрыт" in answer.text

    await pick_day(user, far)
    slots = await user.wait_for(lambda m: "Выберите время входа" in _text(m))
    assert day("ru", far) in _text(slots)


async def test_help_names_the_address_and_opening_hours(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(4309, language_code="en")
    await user.send("/help")
    reply = await user.wait_reply()
    assert "📍 Address: 1 Bolshaya Gruzinskaya St, Moscow" in _text(reply)
    assert "🕘 Opening hours: daily 9:00–20:00" in _text(reply)
