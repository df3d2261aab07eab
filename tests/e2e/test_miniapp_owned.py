"""The Mini App's storefront API, part 2: what a customer owns (orders, tickets, QR images,
the subscription) and cancelling an unpaid order. Nobody sees or touches another's.

Through real HTTP against the app composed as main.py composes it, with the local YooKassa;
the shop's clock stands at 11:00 shop time.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from db.models import Ticket
from payments.tickets.signing import SignedTicket
from tests.e2e.conftest import Shop
from tests.e2e.miniapp_kit import ALICE, BOB, JSON, book, clock, eventually, get_json, login, today
from tests.e2e.miniapp_kit import http as http  # noqa: F401, PLC0414  (fixture)
from tests.e2e.miniapp_kit import shop as shop  # noqa: F401, PLC0414  (fixture)
from tests.qr import decode_qr


async def _free(http: httpx.AsyncClient, headers: dict[str, str], visit: str, slot: str) -> int:
    body = await get_json(http, f"/api/v2/app/availability?from={visit}&to={visit}", headers)
    (day,) = body["days"]
    free: int = next(s["free"] for s in day["slots"] if s["time"] == slot)
    return free


def _provider_id(shop: Shop, payment_id: str) -> str:
    return next(
        str(p["id"])
        for p in shop.yookassa.payments.values()
        if p["metadata"].get("payment_id") == payment_id
    )


async def _pay_tickets(
    http: httpx.AsyncClient, shop: Shop, headers: dict[str, str], payment_id: str, count: int
) -> list[JSON]:
    """Pay in YooKassa's page; wait until the tickets are issued; return them."""
    await shop.yookassa.pay(_provider_id(shop, payment_id))
    tickets: list[JSON] = []

    async def issued() -> bool:
        tickets[:] = (await get_json(http, "/api/v2/app/tickets", headers))["tickets"]
        return len(tickets) == count

    await eventually(issued)
    return tickets


# ---- /orders and cancel ------------------------------------------------------------------------


async def test_orders_are_the_customers_own_newest_first(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    bob = await login(http, shop, BOB, language="en")
    day1, day2 = today(shop) + timedelta(days=1), today(shop) + timedelta(days=2)
    first = await book(http, alice, day1, "12:00", {"adult": 2, "child": 1})
    second = await book(http, alice, day2, "14:00", {"concession": 1})
    bobs = await book(http, bob, day1, "16:00", {"adult": 1})

    orders = (await get_json(http, "/api/v2/app/orders", alice))["orders"]
    assert [o["paymentId"] for o in orders] == [second["payment_id"], first["payment_id"]]
    newest, oldest = orders
    v1 = await get_json(http, f"/v1/payments/{first['payment_id']}", alice)
    assert oldest == {
        "orderId": v1["data"]["order_id"],
        "paymentId": first["payment_id"],
        "status": "pending",
        "visitDate": day1.isoformat(),
        "visitTime": "12:00",
        "items": [
            {"ticketType": "adult", "title": "Взрослый", "quantity": 2, "unitPrice": "1000.00"},
            {
                "ticketType": "child",
                "title": "Детский (3–13 лет)",
                "quantity": 1,
                "unitPrice": "500.00",
            },
        ],
        "total": "2500.00",
        "createdAt": v1["data"]["created_at"],
        "expiresAt": first["expires_at"],
        "paymentUrl": first["confirmation_url"],
        "canCancel": True,
    }
    assert newest["total"] == "700.00"
    assert newest["items"][0]["title"] == "Льготный (студенты, пенсионеры)"

    (only,) = (await get_json(http, "/api/v2/app/orders", bob))["orders"]
    assert only["paymentId"] == bobs["payment_id"]
    assert only["items"][0]["title"] == "Adult"
    assert oldest["orderId"] not in str(only)

    # Past its payment time (before the sweep ran), an order is no longer payable.
    clock(shop).advance(hours=1)
    late = (await get_json(http, "/api/v2/app/orders", bob))["orders"][0]
    assert late["paymentUrl"] is None


async def test_cancel_frees_the_seats_and_only_the_owner_may(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    bob = await login(http, shop, BOB)
    visit = today(shop) + timedelta(days=1)
    data = await book(http, alice, visit, "12:00", {"adult": 2, "child": 1})
    assert await _free(http, alice, visit.isoformat(), "12:00") == 97
    (order,) = (await get_json(http, "/api/v2/app/orders", alice))["orders"]
    path = f"/api/v2/app/orders/{order['orderId']}/cancel"

    refused = await http.post(path, headers=bob)
    assert refused.status_code == 404
    assert refused.json()["message"] == "Order not found"
    unknown = await http.post("/api/v2/app/orders/ZT-20000101-001/cancel", headers=alice)
    assert unknown.status_code == 404
    assert await _free(http, alice, visit.isoformat(), "12:00") == 97

    canceled = await http.post(path, headers=alice)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json() == {"orderId": order["orderId"], "status": "canceled"}
    assert await _free(http, alice, visit.isoformat(), "12:00") == 100
    (after,) = (await get_json(http, "/api/v2/app/orders", alice))["orders"]
    assert (after["status"], after["canCancel"], after["paymentUrl"]) == ("canceled", False, None)
    payment = await get_json(http, f"/v1/payments/{data['payment_id']}", alice)
    assert payment["data"]["status"] == "canceled"

    again = await http.post(path, headers=alice)
    assert again.status_code == 409
    assert "canceled" in again.json()["message"]
    # Released once: a second cancel gives back nothing more.
    assert await _free(http, alice, visit.isoformat(), "12:00") == 100


# ---- /tickets and their QR images -------------------------------------------------------------


async def test_tickets_and_their_qr_images_are_the_owners_alone(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    bob = await login(http, shop, BOB)
    visit = today(shop) + timedelta(days=1)
    data = await book(http, alice, visit, "14:00", {"adult": 2, "child": 1})
    tickets = await _pay_tickets(http, shop, alice, data["payment_id"], 3)

    assert sorted(t["ticketType"] for t in tickets) == ["adult", "adult", "child"]
    for ticket in tickets:
        assert ticket["code"].startswith("ZT-")
        assert ticket["visitDate"] == visit.isoformat()
        assert ticket["visitTime"] == "14:00"
        assert (ticket["status"], ticket["state"], ticket["checkedInAt"]) == (
            "valid",
            "upcoming",
            None,
        )
        assert ticket["qrUrl"] == f"/api/v2/app/tickets/{ticket['code']}/qr.png"
        image = await http.get(ticket["qrUrl"], headers=alice)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.headers["cache-control"].startswith("private")
        # The signed content every QR of ours carries, and the gate's key vouches for it.
        content = decode_qr(image.content)
        assert content.startswith(f"ZT1.{ticket['code']}.{visit:%Y%m%d}.1400.")
        signed = shop.service.payments.signer.verify(content)
        assert isinstance(signed, SignedTicket)
        assert (signed.code, signed.visit_date, signed.slot_time) == (
            ticket["code"],
            visit,
            "14:00",
        )
        assert (signed.ticket_type, signed.is_test) == (ticket["ticketType"], False)
        # Another customer: as if there were no such ticket.
        theirs = await http.get(ticket["qrUrl"], headers=bob)
        assert theirs.status_code == 404
        assert theirs.json()["message"] == "Ticket not found"
    assert {t["title"] for t in tickets} == {"Взрослый", "Детский (3–13 лет)"}
    assert (await get_json(http, "/api/v2/app/tickets", bob))["tickets"] == []
    unknown = await http.get("/api/v2/app/tickets/ZT-0000-0000-0000/qr.png", headers=alice)
    assert unknown.status_code == 404

    # A paid order cannot be canceled; it shows as paid, with nothing left to pay.
    (order,) = (await get_json(http, "/api/v2/app/orders", alice))["orders"]
    assert (order["status"], order["canCancel"], order["paymentUrl"]) == ("paid", False, None)
    paid = await http.post(f"/api/v2/app/orders/{order['orderId']}/cancel", headers=alice)
    assert paid.status_code == 409
    assert "paid" in paid.json()["message"]
    assert await _free(http, alice, visit.isoformat(), "14:00") == 97

    # At the gate: one used, one refunded; after the visit day the valid one is past.
    used, refunded, kept = (t["code"] for t in tickets)
    async with shop.service.sessionmaker.begin() as session:
        await session.execute(
            update(Ticket)
            .where(Ticket.code == used)
            .values(status="used", checked_in_at=shop.service.clock.now(), checked_in_by=1)
        )
        await session.execute(
            update(Ticket).where(Ticket.code == refunded).values(status="refunded")
        )
    clock(shop).advance(days=2)
    states = {
        t["code"]: (t["status"], t["state"])
        for t in (await get_json(http, "/api/v2/app/tickets", alice))["tickets"]
    }
    assert states == {
        used: ("used", "used"),
        refunded: ("refunded", "refunded"),
        kept: ("valid", "past"),
    }
    by_code = {
        t["code"]: t for t in (await get_json(http, "/api/v2/app/tickets", alice))["tickets"]
    }
    assert by_code[used]["checkedInAt"] is not None


# ---- /subscription -----------------------------------------------------------------------------


async def test_subscription_is_null_then_active_then_expired(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE, language="en")
    assert await get_json(http, "/api/v2/app/subscription", alice) == {"subscription": None}
    created = await http.post(
        "/api/v2/payments/create",
        json={"product": "monthly", "returnUrl": "https://example.com/back"},
        headers=alice,
    )
    assert created.status_code == 200, created.text
    await shop.yookassa.pay(created.json()["paymentId"])
    body: JSON = {}

    async def active() -> bool:
        body.update(await get_json(http, "/api/v2/app/subscription", alice))
        return body["subscription"] is not None

    await eventually(active)
    sub = body["subscription"]
    assert sub["planCode"] == "monthly"
    assert sub["title"] == "monthly subscription"
    assert sub["status"] == "active"
    assert sub["daysLeft"] == 30
    started = sub["startsAt"]
    assert started.endswith("Z")

    clock(shop).advance(days=29, hours=12)
    assert (await get_json(http, "/api/v2/app/subscription", alice))["subscription"][
        "daysLeft"
    ] == 1
    clock(shop).advance(days=1)
    lapsed = (await get_json(http, "/api/v2/app/subscription", alice))["subscription"]
    assert (lapsed["status"], lapsed["daysLeft"], lapsed["startsAt"]) == ("expired", 0, started)
