"""/checkin in the chat for gate staff: the QR's content or the printed code; nothing else.

The real Bot and SDK against the local Telegram and YooKassa; the QR is read from the photo the
customer got, as a scanner would read it.
"""

from __future__ import annotations

from sqlalchemy import select

from db.models import Ticket
from db.models_subscriptions import Subscription
from tests.conftest import MovableClock
from tests.e2e.admin_chat import REFUSAL, ask, buy_tickets, plain_text
from tests.e2e.conftest import ShopFactory
from tests.e2e.gate_kit import STAFF_ID, open_gate, tickets
from tests.qr import decode_qr


async def test_staff_check_in_by_qr_content_or_code_and_reach_nothing_else(
    make_shop: ShopFactory,
) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock, STAFF_IDS=str(STAFF_ID))
    paid = await buy_tickets(shop, 5701, adults=2, days=1)
    first, second = await tickets(shop, paid)
    customer = shop.telegram.user(5701)
    photos = [m for m in customer.messages if m.photos]
    scanned = {decode_qr(m.photos[-1]): m for m in photos}
    qr = next(text for text in scanned if first.code in text)
    assert qr.startswith(f"ZT1.{first.code}.") and first.code in (scanned[qr].caption or "")
    open_gate(shop, clock)
    staff = shop.telegram.user(STAFF_ID)

    admitted = await ask(staff, f"/checkin {qr}")
    assert admitted.startswith("✅ Проходите!"), admitted
    async with shop.service.sessionmaker() as session:
        row = await session.scalar(select(Ticket).where(Ticket.code == first.code))
    assert row is not None
    assert (row.status, row.checked_in_by, row.checked_in_device) == ("used", STAFF_ID, "chat")
    assert row.checked_in_at == clock.now()

    again = await ask(staff, f"/checkin {qr}")
    assert again.startswith("⛔ Билет уже прошёл контроль"), again
    assert str(STAFF_ID) in again and "«chat»" in again

    payload, signature = qr.rsplit(".", 1)
    forged = await ask(staff, f"/checkin {payload.replace(first.code, second.code)}.{signature}")
    assert forged.startswith("⛔ Подпись QR-кода не сходится"), forged
    assert (await tickets(shop, paid))[1].status == "valid"

    typed = await ask(staff, f"/checkin {second.code.lower()}")
    assert typed.startswith("✅ Проходите!"), typed

    # Staff reach /checkin and nothing else of the console.
    for command in ("/admin", "/stats", f"/payment {paid}", f"/refund {paid}", "/grant 5701 30"):
        assert await ask(staff, command) == REFUSAL, command
    await staff.press_data("adm:stats")
    assert (await staff.wait_callback_answer()).text == REFUSAL
    async with shop.service.sessionmaker() as session:
        assert (await session.execute(select(Subscription))).scalars().all() == []
    assert not any(r.path.endswith("/refunds") for r in shop.yookassa.requests)

    # A customer may not check anyone in.
    assert await ask(customer, f"/checkin {second.code}") == REFUSAL
    assert not any("Проходите" in plain_text(m) for m in shop.telegram.chat(5701).bot_messages)
