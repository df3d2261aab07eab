"""Language end to end: English customers read no Russian, Russian ones read real plurals,
the language can be switched from the menu, and e-mail addresses may be internationalised."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from db.models import Order, User
from tests.e2e.conftest import MailBox, Shop, ShopFactory
from tests.e2e.dates import pick_day
from tests.fakes.telegram_api import ChatMessage, FakeUser

CYRILLIC = re.compile("[\u0400-\u04ff]")


def _visit_day(shop: Shop) -> date:
    return datetime.now(UTC).astimezone(shop.settings.tz).date() + timedelta(days=1)


def _everything_seen(user: FakeUser) -> list[str]:
    """Every text, caption and button label the bot ever showed (each edit too), and alerts."""
    seen: list[str] = []
    for event in user.chat.events:
        message = event.message
        seen += [message.text or "", message.caption or "", *message.button_texts()]
    return seen + [answer or "" for answer in user.callback_answers]


async def _mail(mailbox: MailBox) -> None:
    for _ in range(100):
        if mailbox.messages:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no e-mail arrived")


async def _buy_tickets(
    user: FakeUser, shop: Shop, lang: str, adults: int, email: str | None
) -> ChatMessage:
    """Walk the ticket journey in `lang`, pay, and return the confirmation."""
    words = {
        "ru": ("Взрослый", "Далее ➡️", "Пропустить", "Проверьте заказ", "💳 Перейти к оплате"),
        "en": ("Adult", "Next ➡️", "Skip", "Check your order", "💳 Proceed to payment"),
    }[lang]
    adult, next_, skip, check, proceed = words
    await user.send("/tickets")
    await user.wait_reply()
    await pick_day(user, _visit_day(shop), lang)
    await user.wait_reply()
    await user.press("10:00", contains=True)
    await user.wait_reply()
    for _ in range(adults):
        await user.press_in_row(adult, "+")
        await user.wait_reply()
    await user.press(next_)
    await user.wait_reply()
    if email:
        await user.send(email)
    else:
        await user.press(skip)
    await user.wait_for(lambda m: check in (m.text or ""))
    await user.press(proceed)
    pay = await user.wait_for(lambda m: any(b.startswith("💳 ") for b in m.button_texts()), 10)
    url = await user.press(next(b for b in pay.button_texts() if b.startswith("💳 ")), pay)
    assert isinstance(url, str)
    await shop.yookassa.pay(parse_qs(urlparse(url).query)["orderId"][0])
    paid = "✅ Оплата получена" if lang == "ru" else "✅ Payment received"
    done = await user.wait_for(lambda m: paid in (m.text or ""), timeout=10)
    await user.wait_for(lambda m: bool(m.photos), timeout=10)
    return done


async def test_an_english_customer_buys_tickets_and_reads_no_russian(
    make_shop: ShopFactory, smtp_server: tuple[int, MailBox]
) -> None:
    port, mailbox = smtp_server
    shop = await make_shop(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS=False, SMTP_FROM="zoo@example.com"
    )
    user = shop.telegram.user(7001, first_name="John", language_code="en")
    await user.send("/start")
    await user.wait_reply()
    done = await _buy_tickets(user, shop, "en", adults=3, email="john@example.com")
    assert "3 tickets for" in (done.text or "")

    await _mail(mailbox)
    mail = mailbox.messages[0]
    body = mail.get_body(("plain",))
    assert body is not None
    mail_text = f"{mail['Subject']}\n{body.get_content()}"
    assert "tickets, order ZT-" in str(mail["Subject"]), mail["Subject"]
    assert "Your 3 tickets are attached" in mail_text and "Adult" in mail_text

    seen = _everything_seen(user)
    assert any("To pay: 3,000 ₽" in text for text in seen), seen
    assert any("Zoo tickets for" in text for text in seen), seen
    russian = [text for text in [*seen, mail_text] if CYRILLIC.search(text)]
    assert not russian, russian
    # The fiscal documents stay Russian: YooKassa's description and the receipt lines.
    remote = next(iter(shop.yookassa.payments.values()))
    assert CYRILLIC.search(remote["description"])
    sent = next(r.body for r in shop.yookassa.requests if r.path.endswith("/payments"))
    assert CYRILLIC.search(sent["receipt"]["items"][0]["description"])


async def test_an_english_customer_subscribes_and_reads_no_russian(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    user = shop.telegram.user(7002, first_name="Mary", language_code="en-GB")
    await user.send("/subscribe")
    await user.wait_reply()
    await user.press("Monthly subscription — 299 ₽")
    pay = await user.wait_for(lambda m: any(b.startswith("💳 ") for b in m.button_texts()), 10)
    assert "ZooTicket - monthly subscription (30 days) • 299 ₽" in (pay.text or "")
    assert "The link is valid for 15 minutes." in (pay.text or ""), pay.text
    url = await user.press(next(b for b in pay.button_texts() if b.startswith("💳 ")), pay)
    assert isinstance(url, str)
    await shop.yookassa.pay(parse_qs(urlparse(url).query)["orderId"][0])
    await user.wait_for(lambda m: "✅ Payment received" in (m.text or ""), timeout=10)
    await user.send("/my")
    await user.wait_for(lambda m: "subscription is active until" in (m.text or ""))

    seen = _everything_seen(user)
    russian = [text for text in seen if CYRILLIC.search(text)]
    assert not russian, russian
    assert CYRILLIC.search(next(iter(shop.yookassa.payments.values()))["description"])


async def test_a_russian_customer_reads_real_plurals(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    for user_id, adults, words in ((7011, 1, "1 билет на"), (7013, 3, "3 билета на"),
                                   (7015, 5, "5 билетов на")):  # fmt: skip
        user = shop.telegram.user(user_id, first_name="Ольга", language_code="ru")
        done = await _buy_tickets(user, shop, "ru", adults=adults, email=None)
        assert words in (done.text or ""), done.text
        assert "бил." not in (done.text or "")
        pay_lines = [t for t in _everything_seen(user) if "забронированы на" in t]
        assert pay_lines and "на 15 минут." in pay_lines[0], pay_lines


async def test_the_language_picked_in_the_menu_wins_over_telegrams(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(7020, first_name="Анна", language_code="ru")
    await user.send("/start")
    menu = await user.wait_reply()
    assert "Выберите, что вас интересует" in (menu.text or "")
    await user.press("🌐 Язык / Language")
    choice = await user.wait_reply()
    assert choice.button_texts()[:2] == ["✅ Русский", "English"]
    await user.press("English")
    switched = await user.wait_reply()
    assert "the bot now speaks English" in (switched.text or "")
    assert "🎟 Tickets" in switched.button_texts()

    # Telegram still says "ru" with every update; the pick stays.
    await user.send("/tickets")
    tickets = await user.wait_reply()
    assert "Choose the day of your visit" in (tickets.text or ""), tickets.text
    await user.send("/help")  # ends the ticket journey first, and says so
    await user.wait_for(lambda m: "What the bot does" in (m.text or ""), timeout=10)
    async with shop.service.sessionmaker() as session:
        stored = await session.get(User, "7020")
    assert stored is not None and (stored.language, stored.language_chosen) == ("en", True)

    await user.send("/language")
    await user.wait_reply()
    await user.press("Русский")
    back = await user.wait_reply()
    assert "бот теперь говорит по-русски" in (back.text or "")
    await user.send("/help")
    assert "Что умеет бот" in ((await user.wait_reply()).text or "")


async def test_an_internationalised_email_is_accepted_and_stored_normalised(
    make_shop: ShopFactory, smtp_server: tuple[int, MailBox]
) -> None:
    port, mailbox = smtp_server
    shop = await make_shop(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS=False, SMTP_FROM="zoo@example.com"
    )
    user = shop.telegram.user(7030, first_name="Пётр", language_code="ru")
    await user.send("/tickets")
    await user.wait_reply()
    await pick_day(user, _visit_day(shop))
    await user.wait_reply()
    await user.press("10:00", contains=True)
    await user.wait_reply()
    await user.press_in_row("Взрослый", "+")
    await user.wait_reply()
    await user.press("Далее ➡️")
    await user.wait_reply()
    for junk in ("пётр на почте", "пётр@почта", "a@@b.ru"):
        await user.send(junk)
        refusal = await user.wait_reply()
        assert "Это не похоже на e-mail" in (refusal.text or ""), refusal.text
    await user.send("  пётр@ПОЧТА.рф ")
    summary = await user.wait_for(lambda m: "Проверьте заказ" in (m.text or ""))
    assert "E-mail: пётр@почта.рф" in (summary.text or ""), summary.text
    await user.press("💳 Перейти к оплате")
    pay = await user.wait_for(lambda m: any(b.startswith("💳 ") for b in m.button_texts()), 10)
    async with shop.service.sessionmaker() as session:
        order = (await session.execute(select(Order))).scalar_one()
    assert order.email == "пётр@почта.рф"
    url = await user.press(next(b for b in pay.button_texts() if b.startswith("💳 ")), pay)
    assert isinstance(url, str)
    await shop.yookassa.pay(parse_qs(urlparse(url).query)["orderId"][0])
    await _mail(mailbox)
    assert mailbox.messages[0]["To"] == "пётр@почта.рф"
