"""/checkin at the gate end to end.

The real Bot and SDK against the local Telegram and YooKassa.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import select

from bot.texts import moment
from db.models import (
    Payment,
    Ticket,
)
from tests.conftest import MovableClock
from tests.e2e.admin_chat import (
    ask,
    audit_rows,
    buy_tickets,
    refund,
    shop_day,
    tickets_of,
)
from tests.e2e.conftest import ADMIN_ID, ShopFactory


async def test_test_ticket_is_refused_at_checkin(make_shop: ShopFactory) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock, TEST_USER_IDS="5651")
    test_paid = await buy_tickets(shop, 5651, adults=1, days=1)
    real_paid = await buy_tickets(shop, 5652, adults=1, days=1)
    async with shop.service.sessionmaker() as session:
        test_payment = await session.get(Payment, test_paid)
    assert test_payment is not None and test_payment.amount == Decimal("10.00")
    clock.set(datetime.combine(shop_day(shop, 1, clock.now()), time(9, 0), tzinfo=shop.settings.tz))
    admin = shop.telegram.user(ADMIN_ID)
    (test_ticket,) = await tickets_of(shop, test_paid)

    refused = await ask(admin, f"/checkin {test_ticket.code}")
    assert refused.startswith("⛔ Это тестовый билет"), refused
    (after,) = await tickets_of(shop, test_paid)
    assert after.status == "valid" and after.checked_in_at is None
    # The same gate lets a ticket of a real purchase through.
    (real_ticket,) = await tickets_of(shop, real_paid)
    assert (await ask(admin, f"/checkin {real_ticket.code}")).startswith("✅ Проходите!")
    results = [a.result for a in await audit_rows(shop) if a.action == "checkin"]
    assert results[0] == "refused: a test ticket", results


async def test_check_in_twice_other_day_refunded_and_unknown(make_shop: ShopFactory) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock)
    tomorrow_order = await buy_tickets(shop, 5601, adults=2, days=1)
    later_order = await buy_tickets(shop, 5602, adults=1, days=2)
    tomorrow = shop_day(shop, 1, clock.now())
    clock.set(datetime.combine(tomorrow, time(9, 0), tzinfo=shop.settings.tz))
    admin = shop.telegram.user(ADMIN_ID)
    code = (await tickets_of(shop, tomorrow_order))[0].code

    first = await ask(admin, f"/checkin {code}")
    assert first.startswith("✅ Проходите!"), first
    assert "Взрослый" in first and "10:00" in first and "5601" in first
    second = await ask(admin, f"/checkin {code}")
    when = moment("ru", clock.now(), shop.settings.tz)
    assert second.startswith("⛔ Билет уже прошёл контроль"), second
    assert when in second, (when, second)
    async with shop.service.sessionmaker() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.code == code))).scalar_one()
    assert ticket.status == "used"
    assert ticket.checked_in_at == clock.now()
    assert ticket.checked_in_by == ADMIN_ID

    later = (await tickets_of(shop, later_order))[0].code
    other_day = await ask(admin, f"/checkin {later}")
    assert "другой день" in other_day and "10:00" in other_day, other_day
    assert "выполнен" in await refund(admin, f"/refund {later_order}")
    refunded = await ask(admin, f"/checkin {later}")
    assert "возвращён" in refunded, refunded
    assert "не найден" in await ask(admin, "/checkin NOPE")
    assert "Использование: /checkin" in await ask(admin, "/checkin")
    results = [a.result for a in await audit_rows(shop) if a.action == "checkin"]
    assert len(results) == 5 and results[0].startswith("let in")
    assert all(r.startswith("refused:") for r in results[1:])
