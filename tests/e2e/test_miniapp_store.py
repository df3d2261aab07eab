"""The Mini App's storefront API, part 1: who is signed in, the catalog, the calendar.

Through real HTTP against the app composed as main.py composes it, with the local YooKassa.
The shop's clock stands at 11:00 shop time: today's 10:00 slot has started, 12:00 has not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

import httpx
from sqlalchemy import update

from db.models import SlotInventory
from db.models_subscriptions import CohortPrice, Subscription
from db.repositories.inventory import ensure_slot
from payments.catalog import DEFAULT_CATALOG
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory
from tests.e2e.miniapp_kit import (
    ALICE,
    BOB,
    JSON,
    SHOP_TZ,
    STAFF,
    book,
    clock,
    eleven_oclock,
    fields_of,
    fixed_shop,
    login,
    today,
)
from tests.e2e.miniapp_kit import http as http  # noqa: F401, PLC0414  (fixture)
from tests.e2e.miniapp_kit import shop as shop  # noqa: F401, PLC0414  (fixture)

SLOTS = ["10:00", "12:00", "14:00", "16:00"]
ENDPOINTS = (
    ("GET", "/api/v2/app/me"),
    ("GET", "/api/v2/app/catalog"),
    ("GET", "/api/v2/app/availability"),
    ("GET", "/api/v2/app/orders"),
    ("POST", "/api/v2/app/orders/ZT-20260101-001/cancel"),
    ("GET", "/api/v2/app/tickets"),
    ("GET", "/api/v2/app/tickets/ZT-7K3M-9QXD-2FAB/qr.png"),
    ("GET", "/api/v2/app/subscription"),
)


def _days(body: JSON) -> dict[str, JSON]:
    return {day["date"]: day for day in body["days"]}


def _slots(day: JSON) -> dict[str, JSON]:
    return {slot["time"]: slot for slot in day["slots"]}


async def _calendar(http: httpx.AsyncClient, headers: dict[str, str], **params: str) -> JSON:
    response = await http.get("/api/v2/app/availability", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


async def _set_slot(shop: Shop, visit: date, slot: str, *, capacity: int, held: int) -> None:
    async with shop.service.sessionmaker.begin() as session:
        await ensure_slot(session, visit, slot, 100)
        await session.execute(
            update(SlotInventory)
            .where(SlotInventory.visit_date == visit, SlotInventory.slot_time == slot)
            .values(capacity=capacity, held=held, capacity_overridden=True)
        )


# ---- auth and the document --------------------------------------------------------------------


async def test_every_storefront_endpoint_needs_a_token(http: httpx.AsyncClient, shop: Shop) -> None:
    for method, path in ENDPOINTS:
        response = await http.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.json()["success"] is False
        forged = await http.request(method, path, headers={"Authorization": "Bearer nope"})
        assert forged.status_code == 401, (method, path)


async def test_the_storefront_is_in_the_openapi_document(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    paths = schema["paths"]
    for method, path in ENDPOINTS:
        template = path.replace("ZT-20260101-001", "{orderId}").replace(
            "ZT-7K3M-9QXD-2FAB", "{code}"
        )
        operation = paths[template][method.lower()]
        assert operation["tags"] == ["Mini App"], template
        assert "401" in operation["responses"], template
    qr = paths["/api/v2/app/tickets/{code}/qr.png"]["get"]["responses"]["200"]["content"]
    assert "image/png" in qr
    components = schema["components"]["schemas"]
    assert {"MeOut", "CatalogOut", "AvailabilityOut", "OrdersOut", "TicketsOut"} <= set(components)
    # camelCase on the wire, as the contract says.
    assert "maxTicketsPerOrder" in components["CatalogOut"]["properties"]
    assert "firstDate" in components["AvailabilityOut"]["properties"]
    parameters = paths["/api/v2/app/availability"]["get"]["parameters"]
    assert {p["name"] for p in parameters} == {"from", "to"}


# ---- /me ---------------------------------------------------------------------------------------


async def test_me_tells_the_customer_who_they_are_and_the_shop(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    response = await http.get("/api/v2/app/me", headers=alice)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "userId": str(ALICE),
        "firstName": "Анна",
        "language": "ru",
        "email": None,
        "roles": {"admin": False, "staff": False},
        "sandbox": False,
        "shop": {
            "name": "ZooTicket",
            "currency": "RUB",
            "address": "Москва, ул. Большая Грузинская, 1",
            "hours": "ежедневно с 9:00 до 20:00, касса до 19:00",
        },
    }
    bob = await http.get("/api/v2/app/me", headers=await login(http, shop, BOB, language="en"))
    assert bob.json()["language"] == "en"
    assert bob.json()["shop"]["address"] == "1 Bolshaya Gruzinskaya St, Moscow"
    staff = await http.get("/api/v2/app/me", headers=await login(http, shop, STAFF))
    assert staff.json()["roles"] == {"admin": False, "staff": True}
    admin = await http.get("/api/v2/app/me", headers=await login(http, shop, ADMIN_ID))
    assert admin.json()["roles"] == {"admin": True, "staff": True}


async def test_me_in_the_sandbox_says_so(make_shop: ShopFactory) -> None:
    shop = await fixed_shop(make_shop, sandbox=True)
    async with httpx.AsyncClient(base_url=shop.service.base_url) as http:
        me = await http.get("/api/v2/app/me", headers=await login(http, shop, ALICE))
    assert me.json()["sandbox"] is True


# ---- /catalog ----------------------------------------------------------------------------------


async def _plan_prices(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, JSON]:
    response = await http.get("/api/v2/app/catalog", headers=headers)
    assert response.status_code == 200, response.text
    return {plan["code"]: plan for plan in response.json()["plans"]}


async def _charged(http: httpx.AsyncClient, shop: Shop, headers: dict[str, str], plan: str) -> str:
    """Start a plan payment as the Mini App does; return what YooKassa was asked to charge."""
    created = await http.post(
        "/api/v2/payments/create",
        json={"product": plan, "returnUrl": "https://example.com/back"},
        headers=headers,
    )
    assert created.status_code == 200, created.text
    amount: str = shop.yookassa.payments[created.json()["paymentId"]]["amount"]["value"]
    return amount


async def test_catalog_shows_ticket_types_and_plans_in_the_customers_language(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    response = await http.get("/api/v2/app/catalog", headers=await login(http, shop, ALICE))
    body = response.json()
    assert body["currency"] == "RUB"
    assert body["slots"] == SLOTS
    assert body["maxTicketsPerOrder"] == 20
    assert body["testOrderTotal"] is None
    assert body["ticketTypes"][:2] == [
        {"code": "adult", "title": "Взрослый", "price": "1000.00"},
        {"code": "child", "title": "Детский (3–13 лет)", "price": "500.00"},
    ]
    assert body["plans"][0] == {
        "code": "monthly",
        "title": "месячная подписка",
        "days": 30,
        "price": "299.00",
        "basePrice": "299.00",
        "cohort": "new",
        "priceLabel": "Цена для новых клиентов",
    }
    english = await http.get(
        "/api/v2/app/catalog", headers=await login(http, shop, BOB, language="en")
    )
    plans = english.json()["plans"]
    assert english.json()["ticketTypes"][0]["title"] == "Adult"
    assert [p["title"] for p in plans] == [
        "monthly subscription",
        "quarterly subscription",
        "yearly subscription",
    ]
    assert plans[0]["priceLabel"] == "Price for new customers"


async def test_catalog_price_is_what_a_plan_payment_then_charges(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    new = await _plan_prices(http, alice)
    assert new["yearly"]["price"] == await _charged(http, shop, alice, "yearly") == "2999.00"

    # Alice's subscription lapsed: she is a returning customer, with the catalog's cohort price.
    now = shop.service.clock.now()
    async with shop.service.sessionmaker.begin() as session:
        session.add(
            Subscription(
                user_id=str(ALICE),
                plan_code="monthly",
                status="expired",
                starts_at=now - timedelta(days=40),
                expires_at=now - timedelta(days=10),
            )
        )
        # An admin's /setprice for returning customers' quarterly plan wins over the catalog.
        session.add(
            CohortPrice(cohort="returning", plan_code="quarterly", amount=Decimal("555.00"))
        )
    returning = await _plan_prices(http, alice)
    assert returning["monthly"]["cohort"] == "returning"
    assert returning["monthly"]["priceLabel"] == "Цена для вернувшихся подписчиков"
    assert returning["monthly"]["basePrice"] == "299.00"
    assert returning["monthly"]["price"] == "249.00"
    assert await _charged(http, shop, alice, "monthly") == "249.00"
    assert returning["quarterly"]["price"] == "555.00"
    assert await _charged(http, shop, alice, "quarterly") == "555.00"


async def test_a_test_users_catalog_shows_the_test_price(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    admin = await login(http, shop, ADMIN_ID)
    created = await http.post(
        "/api/v2/auth/test-user", json={"userId": "test_user_42"}, headers=admin
    )
    tester = {"Authorization": f"Bearer {created.json()['accessToken']}"}
    response = await http.get("/api/v2/app/catalog", headers=tester)
    body = response.json()
    assert body["testOrderTotal"] == "10.00"
    monthly = body["plans"][0]
    assert (monthly["price"], monthly["cohort"]) == ("10.00", "test")
    assert monthly["priceLabel"] == "Тестовая цена: платежи тестового пользователя"
    assert await _charged(http, shop, tester, "monthly") == "10.00"


# ---- /availability -----------------------------------------------------------------------------


async def test_calendar_defaults_to_six_weeks_from_today(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    body = await _calendar(http, alice)
    day0 = today(shop)
    assert body["today"] == body["firstDate"] == day0.isoformat()
    # The default catalog sells 30 days ahead.
    assert body["lastDate"] == (day0 + timedelta(days=30)).isoformat()
    dates = [day["date"] for day in body["days"]]
    assert dates == [(day0 + timedelta(days=n)).isoformat() for n in range(42)]

    first = body["days"][0]
    assert first["open"] is True
    assert first["reason"] is None
    assert first["free"] == 300
    assert first["slots"][0] == {
        "time": "10:00",
        "capacity": 100,
        "free": 100,
        "open": False,
        "reason": "started",
    }
    assert [s["open"] for s in first["slots"]] == [False, True, True, True]
    tomorrow = body["days"][1]
    assert (tomorrow["open"], tomorrow["free"]) == (True, 400)
    window_end = _days(body)[(day0 + timedelta(days=30)).isoformat()]
    assert window_end["open"] is True
    beyond = _days(body)[(day0 + timedelta(days=31)).isoformat()]
    assert beyond == {
        "date": (day0 + timedelta(days=31)).isoformat(),
        "open": False,
        "reason": "beyond_window",
        "free": 0,
        "slots": [],
    }
    past = await _calendar(http, alice, **{"from": (day0 - timedelta(days=1)).isoformat()})
    assert past["days"][0]["reason"] == "past"
    assert len(past["days"]) == 42


async def test_calendar_marks_sold_out_and_closed_slots_and_free_seats(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    day0 = today(shop)
    booked, sold_out, closed, mixed = (day0 + timedelta(days=n) for n in (1, 2, 3, 4))
    await book(http, alice, booked, "12:00", {"adult": 2, "child": 1})
    for slot in SLOTS:
        await _set_slot(shop, sold_out, slot, capacity=100, held=100)
        # capacity 0: an admin's /capacity closed the slot.
        await _set_slot(shop, closed, slot, capacity=0, held=0)
    await _set_slot(shop, mixed, "10:00", capacity=0, held=0)
    await _set_slot(shop, mixed, "12:00", capacity=5, held=5)

    body = await _calendar(http, alice, **{"from": booked.isoformat(), "to": mixed.isoformat()})
    days = _days(body)
    assert len(days) == 4
    assert _slots(days[booked.isoformat()])["12:00"] == {
        "time": "12:00",
        "capacity": 100,
        "free": 97,
        "open": True,
        "reason": None,
    }
    assert days[booked.isoformat()]["free"] == 397
    assert (days[sold_out.isoformat()]["open"], days[sold_out.isoformat()]["reason"]) == (
        False,
        "sold_out",
    )
    assert {s["reason"] for s in days[sold_out.isoformat()]["slots"]} == {"sold_out"}
    assert days[sold_out.isoformat()]["free"] == 0
    assert (days[closed.isoformat()]["open"], days[closed.isoformat()]["reason"]) == (
        False,
        "closed",
    )
    assert {s["reason"] for s in days[closed.isoformat()]["slots"]} == {"closed"}
    mixed_day = days[mixed.isoformat()]
    assert (mixed_day["open"], mixed_day["free"]) == (True, 200)
    mixed_slots = _slots(mixed_day)
    assert (mixed_slots["10:00"]["reason"], mixed_slots["10:00"]["capacity"]) == ("closed", 0)
    assert (mixed_slots["12:00"]["reason"], mixed_slots["12:00"]["free"]) == ("sold_out", 0)
    assert mixed_slots["14:00"]["open"] is True


async def test_calendar_marks_closed_weekdays(make_shop: ShopFactory, tmp_path: Path) -> None:
    source = resources.files("payments").joinpath(DEFAULT_CATALOG)
    text = source.read_text("utf-8").replace("closed_weekdays = []", "closed_weekdays = [0]")
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(text, "utf-8")
    shop = await fixed_shop(make_shop, CATALOG_PATH=str(catalog))
    async with httpx.AsyncClient(base_url=shop.service.base_url) as http:
        body = await _calendar(http, await login(http, shop, ALICE))
    mondays = [day for day in body["days"] if date.fromisoformat(day["date"]).weekday() == 0]
    assert len(mondays) == 6
    in_window = [d for d in mondays if d["date"] <= body["lastDate"]]
    assert in_window
    for monday in in_window:
        assert monday == {
            "date": monday["date"],
            "open": False,
            "reason": "closed_weekday",
            "free": 0,
            "slots": [],
        }
    others = [d for d in body["days"] if d not in mondays and d["date"] <= body["lastDate"]]
    assert all(day["open"] for day in others)
    # The window ends on the last date one can book, never on a closed Monday.
    assert date.fromisoformat(body["lastDate"]).weekday() != 0


async def test_today_closes_once_its_last_slot_has_started(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await login(http, shop, ALICE)
    clock(shop).advance(hours=5, minutes=1)  # 16:01
    body = await _calendar(http, alice, to=(today(shop) + timedelta(days=1)).isoformat())
    first, second = body["days"]
    assert (first["open"], first["reason"], first["free"]) == (False, "past", 0)
    assert {s["reason"] for s in first["slots"]} == {"started"}
    assert second["open"] is True
    assert body["firstDate"] == second["date"]


async def test_bad_ranges_are_422_naming_from_or_to(http: httpx.AsyncClient, shop: Shop) -> None:
    alice = await login(http, shop, ALICE)
    day0 = today(shop)
    cases: list[tuple[dict[str, str], str]] = [
        ({"from": "tomorrow"}, "from"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-1-5"}, "from"),
        ({"from": "9999-12-31"}, "from"),
        ({"to": "soon"}, "to"),
        ({"to": (day0 - timedelta(days=1)).isoformat()}, "to"),
        ({"from": day0.isoformat(), "to": (day0 + timedelta(days=62)).isoformat()}, "to"),
    ]
    for params, field in cases:
        response = await http.get("/api/v2/app/availability", params=params, headers=alice)
        assert fields_of(response) == [field], params
    longest = await _calendar(
        http, alice, **{"from": day0.isoformat(), "to": (day0 + timedelta(days=61)).isoformat()}
    )
    assert len(longest["days"]) == 62


def test_the_fixed_clock_is_between_the_first_two_slots() -> None:
    """The tests above rely on it: 10:00 has started, 12:00 has not, and it is not ahead."""
    moment = eleven_oclock()
    assert moment.astimezone(SHOP_TZ).hour == 11
    assert moment <= datetime.now(UTC)
