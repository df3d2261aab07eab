"""Talking to the shop as its admin and customers: helpers of the admin console's e2e tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import insert, select

from db.models import (
    AuditLog,
    Payment,
    SlotInventory,
    Ticket,
    User,
)
from tests.e2e.conftest import Shop
from tests.e2e.dates import pick_day
from tests.fakes.telegram_api import ChatMessage, FakeUser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REFUSAL = "Эта команда недоступна."


def plain_text(message: ChatMessage) -> str:
    """Return a message's text or caption with thin spaces (money grouping) made plain."""
    return (message.text or message.caption or "").replace("\u2009", " ")


def shop_day(shop: Shop, days: int, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(shop.settings.tz).date() + timedelta(days=days)


async def our_id(shop: Shop, provider_id: str) -> str:
    async with shop.service.sessionmaker() as session:
        payment = (
            await session.execute(select(Payment).where(Payment.provider_id == provider_id))
        ).scalar_one()
    return payment.id


async def pay(shop: Shop, user: FakeUser, pay_message: ChatMessage) -> str:
    url = await user.press(next(b for b in pay_message.button_texts() if b.startswith("💳")))
    assert isinstance(url, str)
    provider_id = parse_qs(urlparse(url).query)["orderId"][0]
    await shop.yookassa.pay(provider_id)
    return provider_id


async def buy_plan(shop: Shop, user_id: int) -> str:
    """Buy the monthly plan through the bot; return our payment id."""
    user = shop.telegram.user(user_id)
    await user.send("/subscribe")
    await user.wait_reply()
    await user.press("Месячная", contains=True)
    pay_message = await user.wait_for(lambda m: any("💳" in b for b in m.button_texts()), 10)
    provider_id = await pay(shop, user, pay_message)
    await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    return await our_id(shop, provider_id)


async def buy_tickets(shop: Shop, user_id: int, *, adults: int, days: int = 1) -> str:
    """Buy adult tickets for 10:00 in `days` days through the bot; return our payment id."""
    user = shop.telegram.user(user_id)
    await user.send("/tickets")
    await user.wait_reply()
    await pick_day(user, shop_day(shop, days))
    await user.wait_reply()
    await user.press("10:00", contains=True)
    await user.wait_reply()
    for _ in range(adults):
        await user.press_in_row("Взрослый", "+")
        await user.wait_reply()
    await user.press("Далее ➡️")
    await user.wait_reply()
    await user.press("Пропустить")
    await user.wait_for(lambda m: "Проверьте заказ" in (m.text or ""))
    await user.press("💳 Перейти к оплате")
    pay_message = await user.wait_for(
        lambda m: any("💳 Оплатить" in b for b in m.button_texts()), timeout=10
    )
    provider_id = await pay(shop, user, pay_message)
    await user.wait_for(lambda m: "✅ Оплата получена" in (m.text or ""), timeout=10)
    await user.wait_for(lambda m: bool(m.photos), timeout=10)  # the QR codes follow the text
    return await our_id(shop, provider_id)


async def ask(admin: FakeUser, command: str, timeout: float = 10) -> str:  # noqa: ASYNC109
    await admin.send(command)
    return plain_text(await admin.wait_reply(timeout=timeout))


async def refund(admin: FakeUser, command: str, timeout: float = 10) -> str:  # noqa: ASYNC109
    """Send a /refund, confirm what it says it will do, and return the outcome.

    A usage line or a refusal comes without buttons: nothing to confirm, it is returned as is.
    """
    await admin.send(command)
    confirmation = await admin.wait_reply(timeout=timeout)
    if not confirmation.buttons:
        return plain_text(confirmation)
    await admin.press("✅ Вернуть", confirmation, contains=True)
    outcome = await admin.wait_for(
        lambda m: (
            m.message_id == confirmation.message_id
            and not (m.text or "").startswith(("💸 Вернуть", "⏳"))
        ),
        timeout=timeout,
    )
    return plain_text(outcome)


async def seats_held(shop: Shop, visit: date) -> int:
    async with shop.service.sessionmaker() as session:
        row = (
            await session.execute(
                select(SlotInventory).where(
                    SlotInventory.visit_date == visit, SlotInventory.slot_time == "10:00"
                )
            )
        ).scalar_one_or_none()
    return row.held if row else 0


async def tickets_of(shop: Shop, payment_id: str) -> list[Ticket]:
    async with shop.service.sessionmaker() as session:
        rows = await session.execute(
            select(Ticket).where(Ticket.payment_id == payment_id).order_by(Ticket.id)
        )
        return list(rows.scalars())


async def audit_rows(shop: Shop) -> list[AuditLog]:
    async with shop.service.sessionmaker() as session:
        return list((await session.execute(select(AuditLog).order_by(AuditLog.id))).scalars())


async def add_users(shop: Shop, ids: list[int]) -> None:
    now = datetime.now(UTC)
    async with shop.service.sessionmaker.begin() as session:
        await session.execute(
            insert(User),
            [
                {
                    "id": str(uid),
                    "first_name": f"User {uid}",
                    "language": "ru",
                    "is_blocked": False,
                    "onboarding_completed": False,
                    "created_at": now,
                }
                for uid in ids
            ],
        )
