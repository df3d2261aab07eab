"""Helpers of the gate's e2e tests: a Mini App sign-in, tickets bought for a day, QR content."""

from __future__ import annotations

import json
import time
from datetime import datetime
from datetime import time as day_time

import httpx
from sqlalchemy import select

from db.models import Payment, Ticket
from payments.api.auth import sign_init_data
from tests.conftest import MovableClock
from tests.e2e.admin_chat import shop_day
from tests.e2e.conftest import Shop

STAFF_ID = 700_001
CUSTOMER_ID = 700_002


def init_data(user_id: int, bot_token: str, first_name: str = "Гена") -> str:
    """Mini App init data for a user, signed with the bot's token as Telegram signs it."""
    user = json.dumps({"id": user_id, "first_name": first_name}, separators=(",", ":"))
    return sign_init_data({"user": user, "auth_date": str(int(time.time()))}, bot_token)


async def sign_in(http: httpx.AsyncClient, shop: Shop, user_id: int) -> dict[str, str]:
    """Sign in as the Mini App does (`Authorization: tma <initData>`); return bearer headers."""
    response = await http.post(
        "/api/v2/auth/verify",
        headers={"Authorization": f"tma {init_data(user_id, shop.telegram.token)}"},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


def open_gate(shop: Shop, clock: MovableClock, days: int = 1) -> None:
    """Move the shop's clock to 09:00 of the day `days` from now (the tickets' visit day)."""
    visit = shop_day(shop, days, clock.now())
    clock.set(datetime.combine(visit, day_time(9, 0), tzinfo=shop.settings.tz))


async def tickets(shop: Shop, payment_id: str) -> list[Ticket]:
    """Return a payment's tickets, read afresh."""
    async with shop.service.sessionmaker() as session:
        rows = await session.execute(
            select(Ticket).where(Ticket.payment_id == payment_id).order_by(Ticket.id)
        )
        return list(rows.scalars())


async def qr_of(shop: Shop, ticket: Ticket) -> str:
    """Return the signed QR content of a ticket, as the chat, e-mail and Mini App render it."""
    async with shop.service.sessionmaker() as session:
        is_test = bool(
            await session.scalar(select(Payment.is_test).where(Payment.id == ticket.payment_id))
        )
    return shop.service.payments.signer.content(
        ticket.code, ticket.visit_date, ticket.slot_time, ticket.ticket_type, is_test=is_test
    )
