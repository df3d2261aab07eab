"""Check-in at the gate (payments/admin/checkin.py) on a migrated database: two gates at once."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from db.models import Order, Payment, Ticket, User
from payments.admin.results import Refusal
from tests.integration.admin_console import SHOP_TZ, Console


async def _ticket(console: Console, code: str, visit: date) -> None:
    async with console.sessionmaker.begin() as session:
        session.add(User(id="77", first_name="Ivan", language="ru"))
        await session.flush()
        session.add(
            Order(
                id="ZT-20260310-001",
                user_id="77",
                visit_date=visit,
                slot_time="10:00",
                seats=1,
                seats_held=True,
                total=Decimal("1000.00"),
                status="paid",
            )
        )
        await session.flush()
        session.add(
            Payment(
                id="ZT_0000000077",
                idempotence_key="ZT_0000000077",
                kind="tickets",
                user_id="77",
                order_id="ZT-20260310-001",
                amount=Decimal("1000.00"),
                refunded_amount=Decimal("0.00"),
                status="succeeded",
                description="d",
                expires_at=console.clock.now(),
            )
        )
        await session.flush()
        session.add(
            Ticket(
                code=code,
                order_id="ZT-20260310-001",
                payment_id="ZT_0000000077",
                user_id="77",
                ticket_type="adult",
                visit_date=visit,
                slot_time="10:00",
                status="valid",
            )
        )


async def test_two_gates_scanning_one_ticket_let_it_in_once(console: Console) -> None:
    today = console.clock.now().astimezone(SHOP_TZ).date()
    await _ticket(console, "CODE-1", today)
    outcomes = await asyncio.gather(
        console.checkin.check_in(1, "CODE-1"),
        console.checkin.check_in(2, "CODE-1"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(refused) == 1 and refused[0].reason == "ticket_used"
    async with console.sessionmaker() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert ticket.status == "used"
    assert refused[0].values["at"] == ticket.checked_in_at
    assert refused[0].values["by"] == ticket.checked_in_by
