"""Shared helpers of the Mini App API tests: a shop on a fixed clock, signed-in customers.

The `shop` and `http` fixtures are imported by the test modules that use them
(`from tests.e2e.miniapp_kit import shop as shop`), as tests/integration shares its worlds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from payments.api.auth import sign_init_data
from tests.conftest import MovableClock
from tests.e2e.conftest import Shop, ShopFactory

JSON = dict[str, Any]
ALICE = 12_345
BOB = 23_456
STAFF = 777_001
SHOP_TZ = ZoneInfo("Europe/Moscow")
# Tokens issued at the fixed clock (up to a day ago) must still be valid now.
TOKEN_MINUTES = 3 * 24 * 60


def eleven_oclock() -> datetime:
    """Return the latest 11:00 shop time that has passed: the 10:00 slot has started, 12:00 not.

    In the past, so the tokens the shop issues at its clock are not from the future.
    """
    now = datetime.now(SHOP_TZ)
    moment = datetime.combine(now.date(), time(11, 0), tzinfo=SHOP_TZ)
    if moment > now:
        moment -= timedelta(days=1)
    return moment.astimezone(UTC)


async def fixed_shop(make_shop: ShopFactory, **overrides: Any) -> Shop:
    """Start the shop on a clock stopped at 11:00 shop time, with gate staff configured."""
    values: dict[str, Any] = {
        "JWT_TTL_MINUTES": TOKEN_MINUTES,
        "INIT_DATA_MAX_AGE_SECONDS": 3600,
        "STAFF_IDS": str(STAFF),
        "TIMEZONE": "Europe/Moscow",
        **overrides,
    }
    return await make_shop(clock=MovableClock(eleven_oclock()), **values)


@pytest.fixture
async def shop(make_shop: ShopFactory) -> Shop:
    """The shop (real YooKassa credentials, against the local fake) on the fixed clock."""
    return await fixed_shop(make_shop)


@pytest.fixture
async def http(shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the running service."""
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=15) as client:
        yield client


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait (at most 30 s: the suite shares two cores) until a condition holds."""
    for _ in range(600):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not hold within 30 s")


async def get_json(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> JSON:
    """GET `path` as the signed-in customer; assert a 200 and return the body."""
    response = await http.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


def clock(shop: Shop) -> MovableClock:
    """Return the shop's movable clock."""
    moving = shop.service.clock
    assert isinstance(moving, MovableClock)
    return moving


def today(shop: Shop) -> date:
    """Return the shop's date at its clock."""
    return shop.service.clock.now().astimezone(SHOP_TZ).date()


async def login(
    http: httpx.AsyncClient, shop: Shop, user_id: int, *, language: str | None = None
) -> dict[str, str]:
    """Sign in through /auth/verify with init data signed at the shop's clock; return headers."""
    user: JSON = {"id": user_id, "first_name": "Анна"}
    if language:
        user["language_code"] = language
    fields = {
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(shop.service.clock.now().timestamp())),
    }
    init_data = sign_init_data(fields, shop.telegram.token)
    response = await http.post("/api/v2/auth/verify", headers={"Authorization": f"tma {init_data}"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


def fields_of(response: httpx.Response) -> list[str]:
    """Assert a 422 in the API's error shape and return the fields it names."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["success"] is False
    return [str(error["field"]) for error in body["errors"]]


def session_body(visit: date, slot: str, quantities: dict[str, int]) -> JSON:
    """A /v1/payments/sessions body for the default catalog's prices."""
    prices = {"adult": 1000, "child": 500, "concession": 700}
    items = [
        {
            "ticket_type": code,
            "quantity": quantity,
            "unit_price": {"value": f"{prices[code]}.00", "currency": "RUB"},
            "visit_date": visit.isoformat(),
            "visit_time": slot,
        }
        for code, quantity in quantities.items()
    ]
    total = sum(prices[code] * quantity for code, quantity in quantities.items())
    return {
        "session_id": "mini-app",
        "order": {"order_id": "ignored", "total_amount": {"value": f"{total}.00"}},
        "items": items,
        "customer": {"email": "visitor@example.com"},
        "confirmation": {"type": "redirect", "return_url": "https://example.com/back"},
    }


async def book(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    visit: date,
    slot: str = "12:00",
    quantities: dict[str, int] | None = None,
) -> JSON:
    """Create a ticket order as the Mini App does; return the session's data."""
    body = session_body(visit, slot, quantities or {"adult": 2})
    response = await http.post("/v1/payments/sessions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: JSON = response.json()["data"]
    return data
