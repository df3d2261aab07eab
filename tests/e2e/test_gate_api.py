"""The gate API end to end: staff check tickets in by QR content or code, offline gates sync.

Tickets are bought through the bot (real Bot and SDK against the local Telegram and YooKassa);
the scanner's calls go over real HTTP with a token from the Mini App sign-in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.models import AuditLog, Ticket
from payments.api.context import iso
from payments.tickets.signing import TicketSigner, new_seed
from tests.conftest import MovableClock
from tests.e2e.admin_chat import buy_tickets, refund
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory
from tests.e2e.gate_kit import CUSTOMER_ID, STAFF_ID, open_gate, qr_of, sign_in, tickets

JSON = dict[str, Any]
CHECKIN = "/api/v2/app/gate/checkin"
SYNC = "/api/v2/app/gate/sync"
GATE = "/api/v2/app/gate"


@pytest.fixture
def clock() -> MovableClock:
    """The shop's clock: tickets are bought today and checked in on their day."""
    return MovableClock()


@pytest.fixture
async def shop(make_shop: ShopFactory, clock: MovableClock) -> Shop:
    """A shop with one member of gate staff and one test user."""
    return await make_shop(clock=clock, STAFF_IDS=str(STAFF_ID), TEST_USER_IDS="5651")


@pytest.fixture
async def http(shop: Shop) -> Any:
    """An HTTP client of the running service."""
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=15) as client:
        yield client


async def _check_in(
    http: httpx.AsyncClient, headers: dict[str, str], qr: str, **extra: Any
) -> JSON:
    response = await http.post(CHECKIN, json={"qr": qr, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


async def test_staff_admit_a_valid_ticket_once_and_see_who_let_it_in_first(
    shop: Shop, http: httpx.AsyncClient, clock: MovableClock
) -> None:
    paid = await buy_tickets(shop, 5601, adults=2, days=1)
    first, second = await tickets(shop, paid)
    # Signed in before the clock moves: a token's lifetime is checked against real time.
    staff = await sign_in(http, shop, STAFF_ID)
    admin = await sign_in(http, shop, ADMIN_ID)
    open_gate(shop, clock)

    day = (await http.get(GATE, headers=staff)).json()
    assert day["publicKey"] == shop.service.payments.signer.public_key
    assert len(day["keyId"]) == 8
    assert day["today"] == first.visit_date.isoformat()
    assert day["timezone"] == "Europe/Moscow"
    assert day["used"] == [] and day["refunded"] == []

    admitted = await _check_in(http, staff, await qr_of(shop, first), device="Gate 2")
    assert admitted == {
        "admitted": True,
        "reason": None,
        "ticket": {
            "code": first.code,
            "ticketType": "adult",
            "title": "Взрослый",
            "visitDate": first.visit_date.isoformat(),
            "visitTime": "10:00",
        },
        "usedAt": iso(clock.now()),
        "usedBy": STAFF_ID,
        "usedDevice": "Gate 2",
    }
    (stored, other) = await tickets(shop, paid)
    assert (stored.status, stored.checked_in_by, stored.checked_in_device) == (
        "used",
        STAFF_ID,
        "Gate 2",
    )
    assert stored.checked_in_at == clock.now()
    assert other.status == "valid"

    clock.advance(minutes=3)
    again = await _check_in(http, staff, await qr_of(shop, first), device="Gate 5")
    assert again["admitted"] is False and again["reason"] == "used"
    assert (again["usedAt"], again["usedBy"], again["usedDevice"]) == (
        iso(stored.checked_in_at),
        STAFF_ID,
        "Gate 2",
    )
    assert again["ticket"]["code"] == first.code
    (still, _) = await tickets(shop, paid)
    assert (still.checked_in_at, still.checked_in_device) == (stored.checked_in_at, "Gate 2")

    # The printed code works too, typed sloppily; an admin counts as staff.
    typed = await _check_in(http, admin, second.code.lower().replace("-", " "))
    assert typed["admitted"] is True and typed["usedBy"] == ADMIN_ID and typed["usedDevice"] is None

    day = (await http.get(GATE, headers=staff)).json()
    assert day["used"] == [
        {"code": first.code, "at": iso(stored.checked_in_at), "by": STAFF_ID, "device": "Gate 2"},
        {"code": second.code, "at": iso(clock.now()), "by": ADMIN_ID, "device": None},
    ]
    async with shop.service.sessionmaker() as session:
        audit = (await session.execute(select(AuditLog).order_by(AuditLog.id))).scalars().all()
    assert [(a.admin_id, a.action, a.result.split(":")[0]) for a in audit] == [
        (STAFF_ID, "checkin", "let in"),
        (STAFF_ID, "checkin", "refused"),
        (ADMIN_ID, "checkin", "let in"),
    ]


async def test_forged_other_day_refunded_test_and_unknown_tickets_are_refused(
    shop: Shop, http: httpx.AsyncClient, clock: MovableClock
) -> None:
    today_paid = await buy_tickets(shop, 5601, adults=1, days=1)
    later_paid = await buy_tickets(shop, 5602, adults=1, days=2)
    refunded_paid = await buy_tickets(shop, 5603, adults=1, days=1)
    test_paid = await buy_tickets(shop, 5651, adults=1, days=1)
    assert "выполнен" in await refund(shop.telegram.user(ADMIN_ID), f"/refund {refunded_paid}")
    (ticket,) = await tickets(shop, today_paid)
    (later,) = await tickets(shop, later_paid)
    (refunded,) = await tickets(shop, refunded_paid)
    (test_ticket,) = await tickets(shop, test_paid)
    staff = await sign_in(http, shop, STAFF_ID)
    open_gate(shop, clock)
    genuine = await qr_of(shop, ticket)

    # Forged: another ticket's code under this one's signature, a signature of another key,
    # a signature with one character changed, and a shape that only looks like ours.
    payload, signature = genuine.rsplit(".", 1)
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    foreign = TicketSigner(new_seed()).content(
        ticket.code, ticket.visit_date, ticket.slot_time, "adult", is_test=False
    )
    for forged in (
        genuine.replace(ticket.code, later.code),
        foreign,
        f"{payload}.{flipped}",
        f"{payload}.",
        "ZT1.whatever",
    ):
        answer = await _check_in(http, staff, forged, device="Gate 1")
        assert (answer["admitted"], answer["reason"], answer["ticket"]) == (False, "forged", None)
    assert (await tickets(shop, today_paid))[0].status == "valid"

    other_day = await _check_in(http, staff, await qr_of(shop, later))
    assert (other_day["admitted"], other_day["reason"]) == (False, "other_day")
    assert other_day["ticket"]["visitDate"] == later.visit_date.isoformat()
    assert other_day["ticket"]["visitTime"] == "10:00"

    gone = await _check_in(http, staff, await qr_of(shop, refunded))
    assert (gone["admitted"], gone["reason"]) == (False, "refunded")
    test_qr = await qr_of(shop, test_ticket)
    assert ".t." in test_qr
    test = await _check_in(http, staff, test_qr)
    assert (test["admitted"], test["reason"]) == (False, "test")
    unknown = await _check_in(http, staff, "ZT-0000-0000-0000")
    assert (unknown["admitted"], unknown["reason"], unknown["ticket"]) == (
        False,
        "not_found",
        None,
    )
    assert (await _check_in(http, staff, genuine))["admitted"] is True

    day = (await http.get(GATE, headers=staff)).json()
    assert day["refunded"] == [refunded.code]
    assert [u["code"] for u in day["used"]] == [ticket.code]


async def test_customers_are_refused_every_gate_endpoint(
    shop: Shop, http: httpx.AsyncClient, clock: MovableClock
) -> None:
    paid = await buy_tickets(shop, CUSTOMER_ID, adults=1, days=1)
    (ticket,) = await tickets(shop, paid)
    customer = await sign_in(http, shop, CUSTOMER_ID)
    open_gate(shop, clock)
    qr = await qr_of(shop, ticket)
    calls = (
        http.get(GATE, headers=customer),
        http.post(CHECKIN, json={"qr": qr}, headers=customer),
        http.post(
            SYNC,
            json={"checkins": [{"qr": qr, "scannedAt": iso(clock.now())}]},
            headers=customer,
        ),
    )
    for call in calls:
        response = await call
        assert response.status_code == 403, response.text
        assert response.json()["success"] is False
    for path in (CHECKIN, SYNC):
        assert (await http.post(path, json={})).status_code == 401
    assert (await http.get(GATE)).status_code == 401
    assert (await tickets(shop, paid))[0].status == "valid"


async def test_sync_records_queued_scans_at_their_time_and_reports_twice(
    shop: Shop, http: httpx.AsyncClient, clock: MovableClock
) -> None:
    paid = await buy_tickets(shop, 5601, adults=4, days=1)
    online, offline, forged_later, future = await tickets(shop, paid)
    staff = await sign_in(http, shop, STAFF_ID)
    open_gate(shop, clock)
    scanned = clock.now()
    # Gate 1 is online and lets `online` in; Gate 3 is offline and lets it in again a minute
    # later from the signature alone, then `offline`.
    assert (await _check_in(http, staff, await qr_of(shop, online), device="Gate 1"))["admitted"]
    queue = {
        "checkins": [
            {
                "qr": await qr_of(shop, online),
                "device": "Gate 3",
                "scannedAt": iso(scanned + timedelta(minutes=1)),
            },
            {
                "qr": await qr_of(shop, offline),
                "device": "Gate 3",
                "scannedAt": iso(scanned + timedelta(minutes=2)),
            },
            {"qr": forged_later.code + "X", "device": "Gate 3", "scannedAt": iso(scanned)},
        ]
    }
    clock.advance(minutes=30)
    response = await http.post(SYNC, json=queue, headers=staff)
    assert response.status_code == 200, response.text
    twice, admitted, unknown = response.json()["results"]
    assert (twice["admitted"], twice["reason"], twice["twice"]) == (False, "used", True)
    assert (twice["usedDevice"], twice["usedAt"]) == ("Gate 1", iso(scanned))
    assert (admitted["admitted"], admitted["twice"]) == (True, False)
    assert admitted["usedAt"] == iso(scanned + timedelta(minutes=2))
    assert (unknown["reason"], unknown["twice"]) == ("not_found", False)
    async with shop.service.sessionmaker() as session:
        stored = await session.scalar(select(Ticket).where(Ticket.code == offline.code))
    assert stored is not None
    assert stored.checked_in_at == scanned + timedelta(minutes=2)
    assert stored.checked_in_device == "Gate 3"

    # The answer was lost and the queue comes again: nothing changes, nothing new is "twice".
    again = (await http.post(SYNC, json=queue, headers=staff)).json()["results"]
    assert [(r["admitted"], r["twice"]) for r in again] == [
        (False, True),
        (True, False),
        (False, False),
    ]
    # A scan "from the future" (a gate's clock running fast) is recorded as of now.
    late = {
        "checkins": [
            {
                "qr": future.code,
                "device": "Gate 3",
                "scannedAt": iso(clock.now() + timedelta(hours=5)),
            }
        ]
    }
    (result,) = (await http.post(SYNC, json=late, headers=staff)).json()["results"]
    assert result["usedAt"] == iso(clock.now())


async def test_bad_bodies_are_422_naming_the_field(shop: Shop, http: httpx.AsyncClient) -> None:
    staff = await sign_in(http, shop, STAFF_ID)
    cases: list[tuple[str, JSON, str]] = [
        (CHECKIN, {"qr": ""}, "qr"),
        (CHECKIN, {"qr": "ZT-1", "device": "x" * 65}, "device"),
        (CHECKIN, {"qr": "x" * 600}, "qr"),
        (
            SYNC,
            {"checkins": [{"qr": "ZT-1", "scannedAt": "2026-12-02T10:00:00"}]},
            "checkins.0.scannedAt",
        ),
        (SYNC, {"checkins": [{"qr": "ZT-1", "scannedAt": "yesterday"}]}, "checkins.0.scannedAt"),
        (
            SYNC,
            {"checkins": [{"qr": "ZT-1", "scannedAt": "2026-12-02T10:00:00Z"}] * 201},
            "checkins",
        ),
    ]
    for path, body, field in cases:
        response = await http.post(path, json=body, headers=staff)
        assert response.status_code == 422, (body, response.text)
        fields = [e["field"] for e in response.json()["errors"]]
        assert field in fields, (field, fields)
