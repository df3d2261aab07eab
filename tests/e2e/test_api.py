"""The REST API of both seeds, through real HTTP against the composed app and the local fakes.

Every example of ../shared/seeds/ is sent as written (with a valid token); the security rules of
SPEC §7 are checked from outside: Mini App init data, JWTs, IDOR, validation, limits.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select, text, update

from db.models import Payment, PaymentEvent, SlotInventory, Ticket, User
from db.models_subscriptions import Subscription, SubscriptionPeriod
from payments.api.auth import InitDataError, sign_init_data, verify_init_data
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory

SECRET = "x" * 64
ISSUER = "zooticket-bot"
ALICE = 12_345
BOB = 23_456
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PAYMENT_ID = re.compile(r"^ZT_\d{10}$")
JSON = dict[str, Any]

# The ZooTicket seed's session body as written (its slips mended as SPEC §7 says): one line of
# two adult tickets for 2024-10-25 10:00, a client total of 2500.00.
SEED_SESSION: JSON = {
    "session_id": "session_abc123",
    "order": {
        "order_id": "ZT-20241025-001",
        "total_amount": {"value": "2500.00", "currency": "RUB"},
    },
    "description": "Билеты в зоопарк на 25.10.2024",
    "items": [
        {
            "ticket_type": "adult",
            "quantity": 2,
            "unit_price": {"value": "1000.00", "currency": "RUB"},
            "visit_date": "2024-10-25",
            "visit_time": "10:00",
        }
    ],
    "customer": {"email": "visitor@example.com", "phone": "+79991111111"},
    "payment_methods": ["bank_card", "apple_pay"],
    "confirmation": {
        "type": "redirect",
        "return_url": "https://zooticket.ru/payment/success",
        "cancel_url": "https://zooticket.ru/payment/cancel",
    },
}
SEED_PUT: JSON = {
    "amount": {"value": "3000.00", "currency": "RUB"},
    "metadata": {"additional_info": "updated_data"},
    "description": "Updated payment description",
}
SEED_PATCH: JSON = {
    "amount": {"value": "2800.00", "currency": "RUB"},
    "customer": {"email": "newemail@example.com", "phone": "+79992222222"},
}
SEED_CREATE: JSON = {
    "product": "monthly",
    "returnUrl": "https://burlive.ru/payment/success",
    "description": "BurLive - месячная подписка (30 дней) • 299 ₽",
}
SEED_TEST_USER: JSON = {
    "userId": "test_user_1272270574",
    "firstName": "Test User",
    "email": "test@example.com",
}
SEED_TEST_CREATE: JSON = {
    "userId": "test_user_1272270574",
    "product": "monthly",
    "returnUrl": "https://example.com/success",
}


# ---- helpers ---------------------------------------------------------------------------------


@pytest.fixture
async def shop(make_shop: ShopFactory) -> Shop:
    """The shop with a known JWT secret, so tests can craft tokens."""
    return await make_shop(JWT_SECRET=SECRET)


@pytest.fixture
async def client(shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the running service."""
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=15) as http:
        yield http


def _init_data(
    user_id: int,
    bot_token: str,
    *,
    auth_date: int | None = None,
    **extra: str,
) -> str:
    """Mini App init data in the seed's shape: `user=...&auth_date=...&hash=...`."""
    user = json.dumps({"id": user_id, "first_name": "Анна"}, separators=(",", ":"))
    fields = {"user": user, "auth_date": str(auth_date or int(time.time())), **extra}
    return sign_init_data(fields, bot_token)


async def _login(http: httpx.AsyncClient, shop: Shop, user_id: int) -> str:
    response = await http.get(f"/api/v2/auth/verify?{_init_data(user_id, shop.telegram.token)}")
    assert response.status_code == 200, response.text
    token = response.json()["accessToken"]
    assert isinstance(token, str)
    return token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _claims(token: str) -> JSON:
    claims: JSON = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=ISSUER)
    return claims


def _error(response: httpx.Response, status: int) -> JSON:
    """Assert an error answer: the status, JSON, `success: false` and a message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: JSON = response.json()
    assert body["success"] is False
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def _invalid(response: httpx.Response) -> list[str]:
    """Assert a 422 and return the fields it names."""
    body = _error(response, 422)
    assert body["errors"], body
    return [str(e["field"]) for e in body["errors"]]


def _visit_day(shop: Shop, days: int = 1) -> date:
    return datetime.now(UTC).astimezone(shop.settings.tz).date() + timedelta(days=days)


def _session_body(shop: Shop, *, days: int = 1, adults: int = 2) -> JSON:
    """The seed's session body for a bookable date, with the catalog's total."""
    body = copy.deepcopy(SEED_SESSION)
    body["items"][0]["visit_date"] = _visit_day(shop, days).isoformat()
    body["items"][0]["quantity"] = adults
    body["order"]["total_amount"]["value"] = f"{1000 * adults}.00"
    return body


async def _new_session(http: httpx.AsyncClient, token: str, body: JSON) -> JSON:
    response = await http.post("/v1/payments/sessions", json=body, headers=_auth(token))
    assert response.status_code == 201, response.text
    data: JSON = response.json()["data"]
    return data


async def _get(http: httpx.AsyncClient, token: str, payment_id: str) -> JSON:
    response = await http.get(f"/v1/payments/{payment_id}", headers=_auth(token))
    assert response.status_code == 200, response.text
    data: JSON = response.json()["data"]
    return data


def _at_yookassa(shop: Shop, payment_id: str) -> list[JSON]:
    """YooKassa payments made for one of our payments, oldest first."""
    return [
        p for p in shop.yookassa.payments.values() if p["metadata"].get("payment_id") == payment_id
    ]


def _sent(shop: Shop, payment_id: str) -> list[JSON]:
    """What the shop asked YooKassa to create for one of our payments, oldest first."""
    return [
        r.body
        for r in shop.yookassa.requests
        if r.method == "POST"
        and r.path == "/v3/payments"
        and r.body["metadata"].get("payment_id") == payment_id
    ]


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait (at most 10 s) until a condition holds."""
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not hold within 10 s")


def _deliveries(shop: Shop, provider_id: str) -> list[tuple[str, int | None]]:
    """The notifications YooKassa delivered about a payment and how our webhook answered."""
    return [
        (n.event, n.http_status) for n in shop.yookassa.notifications if n.object_id == provider_id
    ]


async def _count(shop: Shop, query: Any) -> int:
    async with shop.service.sessionmaker() as session:
        return int((await session.execute(query)).scalar_one())


async def _tickets(shop: Shop, order_id: str) -> int:
    return await _count(shop, select(func.count(Ticket.id)).where(Ticket.order_id == order_id))


def _b64(part: JSON) -> str:
    raw = json.dumps(part, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# ---- health and docs -------------------------------------------------------------------------


async def test_health_answers_without_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/v1/health"):
        response = await client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "healthy"
        assert ISO_Z.match(body["timestamp"])
        stamp = datetime.strptime(body["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs((stamp - datetime.now(UTC)).total_seconds()) < 60


async def test_openapi_lists_every_seed_path_with_examples(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path, methods in {
        "/health": {"get"},
        "/v1/health": {"get"},
        "/v1/payments/sessions": {"post"},
        "/v1/payments/{payment_id}": {"get", "put", "patch", "delete"},
        "/api/v2/auth/verify": {"get"},
        "/api/v2/auth/test-user": {"post"},
        "/api/v2/payments/create": {"post"},
        "/api/v2/payments/status": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    schemas = schema["components"]["schemas"]
    assert schemas["SessionIn"]["examples"][0]["session_id"] == "session_abc123"
    assert schemas["CreateIn"]["examples"][0]["product"] == "monthly"
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


# ---- /api/v2/auth/verify ---------------------------------------------------------------------


async def test_verify_seed_query_gives_a_short_lived_token(make_shop: ShopFactory) -> None:
    shop = await make_shop(JWT_SECRET=SECRET, JWT_TTL_MINUTES=15)
    # The seed's example, signed with this bot's token instead of REAL_HASH.
    query = sign_init_data(
        {"user": '{"id":12345}', "auth_date": str(int(time.time()))}, shop.telegram.token
    )
    assert re.match(r"^user=%7B%22id%22%3A12345%7D&auth_date=\d{10}&hash=[0-9a-f]{64}$", query)
    async with httpx.AsyncClient(base_url=shop.service.base_url) as http:
        first = await http.get(f"/api/v2/auth/verify?{query}")
        assert first.status_code == 200, first.text
        body = first.json()
        assert set(body) == {"userId", "isFirstOpen", "onboardingCompleted", "accessToken"}
        assert body["userId"] == "12345"
        assert body["isFirstOpen"] is True
        assert body["onboardingCompleted"] is False
        claims = _claims(body["accessToken"])
        assert claims["sub"] == "12345"
        assert claims["role"] == "user"
        assert claims["exp"] - claims["iat"] == 15 * 60

        again = (await http.get(f"/api/v2/auth/verify?{query}")).json()
        assert again["isFirstOpen"] is False
        assert again["userId"] == "12345"

        admin = await http.get(f"/api/v2/auth/verify?{_init_data(ADMIN_ID, shop.telegram.token)}")
        assert admin.status_code == 200
        assert _claims(admin.json()["accessToken"])["role"] == "admin"


async def test_verify_keeps_the_signature_field_in_the_check(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    query = _init_data(ALICE, shop.telegram.token, signature="c2lnbmF0dXJl", query_id="AAH")
    assert (await client.get(f"/api/v2/auth/verify?{query}")).status_code == 200
    stripped = re.sub(r"&?signature=[^&]*", "", query)
    _error(await client.get(f"/api/v2/auth/verify?{stripped}"), 401)


async def test_bad_init_data_is_401(make_shop: ShopFactory) -> None:
    shop = await make_shop(JWT_SECRET=SECRET, INIT_DATA_MAX_AGE_SECONDS=3600)
    token = shop.telegram.token
    now = int(time.time())
    good = _init_data(ALICE, token)
    tampered = good.replace("%3A12345%2C", "%3A12346%2C")
    assert tampered != good
    cases = {
        "tampered user": tampered,
        "tampered name": good.replace("first_name", "first_nama"),
        "older than the limit": _init_data(ALICE, token, auth_date=now - 3600 - 30),
        "from the future": _init_data(ALICE, token, auth_date=now + 3600),
        "another bot": _init_data(ALICE, "987654321:ANOTHER-bot-token"),
        "no hash": re.sub(r"&hash=[0-9a-f]+", "", good),
        "zeroed hash": re.sub(r"hash=[0-9a-f]+", "hash=" + "0" * 64, good),
        "repeated field": f"{good}&auth_date={now}",
        "empty": "",
        "not a query string": "garbage",
    }
    async with httpx.AsyncClient(base_url=shop.service.base_url) as http:
        for name, query in cases.items():
            response = await http.get(f"/api/v2/auth/verify?{query}")
            assert response.status_code == 401, name
            body = _error(response, 401)
            assert "accessToken" not in body
        fresh_enough = _init_data(ALICE, token, auth_date=now - 3500)
        assert (await http.get(f"/api/v2/auth/verify?{fresh_enough}")).status_code == 200
    assert await _count(shop, select(func.count(User.id)).where(User.id == "12346")) == 0


def test_init_data_check_accepts_telegram_issued_vectors() -> None:
    """telegram.md §7.3: real Telegram init data (vector 2 has a `signature`) passes as is."""
    vector2 = (
        "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F"
        "%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language"
        "_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22"
        "photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3"
        "ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type="
        "private&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM"
        "72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c1"
        "1fe5729cae6796a36d73"
    )
    token2 = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4"
    at2 = datetime.fromtimestamp(1733509682 + 10, UTC)
    user = verify_init_data(vector2, token2, 3600, at2)
    assert (user.id, user.first_name, user.username) == (279058397, "Vladislav + - ? /", "vdkfrost")
    with pytest.raises(InitDataError):
        verify_init_data(vector2, "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8", 3600, at2)
    with pytest.raises(InitDataError):
        verify_init_data(vector2, token2, 3600, at2 + timedelta(hours=2))
    vector3 = (
        "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22"
        "Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22"
        "language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501"
        "b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
    )
    token3 = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
    user3 = verify_init_data(vector3, token3, 60, datetime.fromtimestamp(1662771650, UTC))
    assert user3.id == 279058397


# ---- Bearer tokens ---------------------------------------------------------------------------


async def test_every_protected_endpoint_needs_a_valid_token(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await _login(client, shop, ALICE)
    payment_id = (await _new_session(client, alice, _session_body(shop)))["payment_id"]
    now = int(time.time())
    claims: JSON = {"sub": "12345", "role": "admin", "iss": ISSUER, "iat": now, "exp": now + 600}
    forged_valid = jwt.encode(claims, SECRET, algorithm="HS256")
    bad_tokens = {
        "garbage": "not-a-jwt",
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, SECRET),
        "wrong issuer": jwt.encode({**claims, "iss": "someone-else"}, SECRET),
        "no issuer": jwt.encode({k: v for k, v in claims.items() if k != "iss"}, SECRET),
        "no expiry": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, SECRET),
        "no subject": jwt.encode({k: v for k, v in claims.items() if k != "sub"}, SECRET),
        "another secret": jwt.encode(claims, "y" * 64, algorithm="HS256"),
        "HS512 with our secret": jwt.encode(claims, SECRET, algorithm="HS512"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "signature cut": forged_valid.rsplit(".", 1)[0] + ".",
        "payload swapped": ".".join(
            [
                forged_valid.split(".")[0],
                _b64({**claims, "sub": "23456"}),
                forged_valid.split(".")[2],
            ]
        ),
    }
    requests: list[tuple[str, str, JSON | None]] = [
        ("POST", "/v1/payments/sessions", _session_body(shop)),
        ("GET", f"/v1/payments/{payment_id}", None),
        ("PUT", f"/v1/payments/{payment_id}", {"description": "x"}),
        ("PATCH", f"/v1/payments/{payment_id}", {"description": "x"}),
        ("DELETE", f"/v1/payments/{payment_id}", None),
        ("POST", "/api/v2/payments/create", SEED_CREATE),
        ("GET", f"/api/v2/payments/status?paymentId={payment_id}", None),
    ]
    headers_without_token: dict[str, dict[str, str]] = {
        "no header": {},
        "bare scheme": {"Authorization": "Bearer"},
        "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "token without scheme": {"Authorization": forged_valid},
    }
    for method, url, body in requests:
        for name, headers in headers_without_token.items():
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 401, (method, url, name)
            _error(response, 401)
        for name, token in bad_tokens.items():
            response = await client.request(method, url, json=body, headers=_auth(token))
            assert response.status_code == 401, (method, url, name, response.text)
            _error(response, 401)
    # An invalid token is refused even where a token is optional.
    response = await client.post(
        "/api/v2/auth/test-user", json=SEED_TEST_USER, headers=_auth(bad_tokens["expired"])
    )
    _error(response, 401)
    # The same claims, correctly signed, are accepted: the refusals above are the token's faults.
    assert (await _get(client, forged_valid, payment_id))["payment_id"] == payment_id
    assert len(_at_yookassa(shop, payment_id)) == 1
    assert (await _get(client, alice, payment_id))["status"] == "pending"


async def test_a_token_of_an_unknown_user_cannot_pay(client: httpx.AsyncClient, shop: Shop) -> None:
    now = int(time.time())
    ghost = jwt.encode(
        {"sub": "777", "role": "user", "iss": ISSUER, "iat": now, "exp": now + 600}, SECRET
    )
    _error(
        await client.post("/api/v2/payments/create", json=SEED_CREATE, headers=_auth(ghost)), 401
    )
    response = await client.post(
        "/v1/payments/sessions", json=_session_body(shop), headers=_auth(ghost)
    )
    _error(response, 401)
    assert shop.yookassa.payments == {}


# ---- /api/v2/payments ------------------------------------------------------------------------


async def test_create_and_status_with_the_seed_bodies(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    response = await client.post("/api/v2/payments/create", json=SEED_CREATE, headers=_auth(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"paymentUrl", "paymentId"}
    provider_id = body["paymentId"]
    assert body["paymentUrl"].endswith(f"orderId={provider_id}")
    remote = shop.yookassa.payments[provider_id]
    assert remote["amount"] == {"value": "299.00", "currency": "RUB"}
    # The description comes from the catalog, so it always matches the price.
    assert remote["description"] == "ZooTicket - месячная подписка (30 дней) • 299 ₽"
    assert remote["metadata"]["userId"] == "12345"
    assert remote["confirmation"]["return_url"] == "https://burlive.ru/payment/success"

    status = await client.get(
        "/api/v2/payments/status", params={"paymentId": provider_id}, headers=_auth(token)
    )
    assert status.status_code == 200
    assert status.json() == {"status": "pending", "paid": False}

    # The user is the token's subject: a userId in the body changes nothing.
    other = await client.post(
        "/api/v2/payments/create",
        json={**SEED_CREATE, "userId": str(BOB), "product": "yearly"},
        headers=_auth(token),
    )
    assert other.status_code == 200
    remote = shop.yookassa.payments[other.json()["paymentId"]]
    assert remote["metadata"]["userId"] == "12345"
    assert remote["amount"]["value"] == "2999.00"


async def test_create_and_status_validation(client: httpx.AsyncClient, shop: Shop) -> None:
    token = await _login(client, shop, ALICE)
    cases: list[tuple[JSON, str]] = [
        ({**SEED_CREATE, "product": "lifetime"}, "product"),
        ({"returnUrl": "https://burlive.ru/payment/success"}, "product"),
        ({"product": "monthly"}, "returnUrl"),
        ({**SEED_CREATE, "returnUrl": "javascript:alert(1)"}, "returnUrl"),
        ({**SEED_CREATE, "product": 5}, "product"),
    ]
    for body, field in cases:
        response = await client.post("/api/v2/payments/create", json=body, headers=_auth(token))
        assert field in _invalid(response), body
    unknown = await client.post(
        "/api/v2/payments/create", json={**SEED_CREATE, "product": "lifetime"}, headers=_auth(token)
    )
    assert "monthly" in unknown.json()["errors"][0]["message"]
    broken = await client.post(
        "/api/v2/payments/create",
        content=b'{"product": "monthly",',
        headers={**_auth(token), "Content-Type": "application/json"},
    )
    _error(broken, 422)
    no_id = await client.get("/api/v2/payments/status", headers=_auth(token))
    assert any(f.endswith("paymentId") for f in _invalid(no_id))
    missing = await client.get(
        "/api/v2/payments/status", params={"paymentId": "nope"}, headers=_auth(token)
    )
    assert _error(missing, 404)["message"] == "Payment not found"
    assert shop.yookassa.payments == {}


async def test_lost_notification_is_recovered_by_status_exactly_once(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    response = await client.post("/api/v2/payments/create", json=SEED_CREATE, headers=_auth(token))
    provider_id = response.json()["paymentId"]
    shop.yookassa.lose_notifications(1)
    await shop.yookassa.pay(provider_id)
    assert shop.yookassa.dropped_notifications == [("payment.succeeded", provider_id)]
    assert (await _get(client, token, provider_id))["status"] == "pending"

    for _ in range(3):
        status = await client.get(
            "/api/v2/payments/status", params={"paymentId": provider_id}, headers=_auth(token)
        )
        assert status.status_code == 200
        assert status.json() == {"status": "succeeded", "paid": True}
        assert await _count(shop, select(func.count(SubscriptionPeriod.id))) == 1
    async with shop.service.sessionmaker() as session:
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.user_id == "12345"
    assert sub.expires_at - sub.starts_at == timedelta(days=30)
    data = await _get(client, token, provider_id)
    assert data["status"] == "succeeded"
    assert data["payment_method"] == "bank_card"
    assert data["captured_at"] is not None
    again = await client.get(f"/api/v2/auth/verify?{_init_data(ALICE, shop.telegram.token)}")
    assert again.json()["onboardingCompleted"] is True


async def test_lost_ticket_notification_is_captured_by_status_once(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    data = await _new_session(client, token, _session_body(shop))
    payment_id = data["payment_id"]
    provider_id = _at_yookassa(shop, payment_id)[0]["id"]
    shop.yookassa.lose_notifications(1)
    await shop.yookassa.pay(provider_id)
    assert shop.yookassa.payments[provider_id]["status"] == "waiting_for_capture"
    status = await client.get(
        "/api/v2/payments/status", params={"paymentId": provider_id}, headers=_auth(token)
    )
    assert status.json() == {"status": "succeeded", "paid": True}
    assert shop.yookassa.payments[provider_id]["status"] == "succeeded"
    order_id = (await _get(client, token, payment_id))["order_id"]
    await _eventually(lambda: _ticket_count_is(shop, order_id, 2))
    status = await client.get(
        "/api/v2/payments/status", params={"paymentId": payment_id}, headers=_auth(token)
    )
    assert status.json() == {"status": "succeeded", "paid": True}
    # The capture made YooKassa notify payment.succeeded: once our webhook has answered it,
    # everything that notification could have done is done.
    await shop.yookassa.wait_notifications()
    assert _deliveries(shop, provider_id) == [("payment.succeeded", 200)]
    assert await _tickets(shop, order_id) == 2
    captures = [r for r in shop.yookassa.requests if r.path.endswith(f"{provider_id}/capture")]
    assert len(captures) == 1


async def _ticket_count_is(shop: Shop, order_id: str, expected: int) -> bool:
    return await _tickets(shop, order_id) == expected


async def test_pending_limit_is_429_with_retry_after(make_shop: ShopFactory) -> None:
    shop = await make_shop(JWT_SECRET=SECRET, PENDING_PAYMENTS_LIMIT=2)
    async with httpx.AsyncClient(base_url=shop.service.base_url) as http:
        token = await _login(http, shop, ALICE)
        for _ in range(2):
            ok = await http.post("/api/v2/payments/create", json=SEED_CREATE, headers=_auth(token))
            assert ok.status_code == 200
        refused = await http.post("/api/v2/payments/create", json=SEED_CREATE, headers=_auth(token))
        _error(refused, 429)
        retry_after = int(refused.headers["Retry-After"])
        assert 1 <= retry_after <= 5 * 60 + 1
        tickets = await http.post(
            "/v1/payments/sessions", json=_session_body(shop), headers=_auth(token)
        )
        _error(tickets, 429)
        assert 1 <= int(tickets.headers["Retry-After"]) <= 5 * 60 + 1
        assert len(shop.yookassa.payments) == 2
        # Another user is not limited by Alice's payments.
        bob = await _login(http, shop, BOB)
        assert (
            await http.post("/api/v2/payments/create", json=SEED_CREATE, headers=_auth(bob))
        ).status_code == 200


# ---- /api/v2/auth/test-user ------------------------------------------------------------------


async def test_test_user_pays_ten_rubles(client: httpx.AsyncClient, shop: Shop) -> None:
    # Real (fake) YooKassa credentials: test users are an admin's to create (test_api_auth.py).
    admin = _auth(await _login(client, shop, ADMIN_ID))
    response = await client.post("/api/v2/auth/test-user", json=SEED_TEST_USER, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["userId"] == "test_user_1272270574"
    assert body["isFirstOpen"] is True
    assert body["onboardingCompleted"] is False
    token = body["accessToken"]
    assert _claims(token)["sub"] == "test_user_1272270574"
    assert _claims(token)["role"] == "user"

    created = await client.post(
        "/api/v2/payments/create", json=SEED_TEST_CREATE, headers=_auth(token)
    )
    assert created.status_code == 200, created.text
    remote = shop.yookassa.payments[created.json()["paymentId"]]
    assert remote["amount"] == {"value": "10.00", "currency": "RUB"}
    assert remote["description"] == "[ТЕСТ] ZooTicket - месячная подписка (30 дней) • 10 ₽"
    assert remote["metadata"]["userId"] == "test_user_1272270574"
    (sent,) = _sent(shop, remote["metadata"]["payment_id"])
    assert sent["receipt"]["customer"] == {"email": "test@example.com"}

    tickets = await _new_session(client, token, _session_body(shop))
    remote = _at_yookassa(shop, tickets["payment_id"])[0]
    assert remote["amount"] == {"value": "10.00", "currency": "RUB"}
    assert remote["description"].startswith("[ТЕСТ] ")

    # The seed's special test id, and a userId without "test".
    special = await client.post(
        "/api/v2/auth/test-user", json={"userId": "1272270574"}, headers=admin
    )
    assert special.status_code == 200
    assert special.json()["userId"] == "1272270574"
    refused = await client.post(
        "/api/v2/auth/test-user", json={**SEED_TEST_USER, "userId": "u42"}, headers=admin
    )
    assert _invalid(refused) == ["userId"]
    bad_mail = await client.post(
        "/api/v2/auth/test-user", json={**SEED_TEST_USER, "email": "not-mail"}, headers=admin
    )
    assert _invalid(bad_mail) == ["email"]

    # A real user's token pays the real price even with the seed's test userId in the body.
    alice = await _login(client, shop, ALICE)
    real = await client.post("/api/v2/payments/create", json=SEED_TEST_CREATE, headers=_auth(alice))
    assert shop.yookassa.payments[real.json()["paymentId"]]["amount"]["value"] == "299.00"


async def test_test_user_in_production_needs_an_admin(make_shop: ShopFactory) -> None:
    shop = await make_shop(APP_ENV="production", JWT_SECRET=SECRET)
    async with httpx.AsyncClient(base_url=shop.service.base_url) as http:
        _error(await http.post("/api/v2/auth/test-user", json=SEED_TEST_USER), 403)
        alice = await _login(http, shop, ALICE)
        response = await http.post(
            "/api/v2/auth/test-user", json=SEED_TEST_USER, headers=_auth(alice)
        )
        _error(response, 403)
        admin = await _login(http, shop, ADMIN_ID)
        response = await http.post(
            "/api/v2/auth/test-user", json=SEED_TEST_USER, headers=_auth(admin)
        )
        assert response.status_code == 200, response.text
        assert response.json()["userId"] == "test_user_1272270574"
        assert _claims(response.json()["accessToken"])["role"] == "user"


# ---- /v1/payments/sessions -------------------------------------------------------------------


async def test_seed_session_as_written_is_422_for_its_past_date(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    response = await client.post("/v1/payments/sessions", json=SEED_SESSION, headers=_auth(token))
    assert _invalid(response) == ["items.0.visit_date"]
    assert response.json()["message"] == "Validation failed"
    assert shop.yookassa.payments == {}


async def test_seed_session_with_a_future_date_is_201_and_reads_back(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    before = datetime.now(UTC).replace(microsecond=0)
    response = await client.post(
        "/v1/payments/sessions", json=_session_body(shop), headers=_auth(token)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Payment session created successfully"
    data = body["data"]
    assert set(data) == {"payment_id", "session_id", "status", "confirmation_url", "expires_at"}
    assert PAYMENT_ID.match(data["payment_id"])
    assert data["session_id"] == "session_abc123"
    assert data["status"] == "pending"
    expires = datetime.strptime(data["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + timedelta(minutes=14) <= expires <= before + timedelta(minutes=16)
    (remote,) = _at_yookassa(shop, data["payment_id"])
    assert data["confirmation_url"] == remote["confirmation"]["confirmation_url"]
    assert remote["amount"] == {"value": "2000.00", "currency": "RUB"}
    assert remote["description"] == "Билеты в зоопарк на 25.10.2024"
    (sent,) = _sent(shop, data["payment_id"])
    assert sent["capture"] is False
    assert [(float(i["quantity"]), i["amount"]["value"]) for i in sent["receipt"]["items"]] == [
        (2.0, "1000.00")
    ]
    assert sent["receipt"]["customer"] == {"email": "visitor@example.com"}
    assert remote["confirmation"]["return_url"] == "https://zooticket.ru/payment/success"

    read = await client.get(f"/v1/payments/{data['payment_id']}", headers=_auth(token))
    assert read.status_code == 200
    envelope = read.json()
    assert envelope["success"] is True
    assert envelope["message"] == "Payment retrieved successfully"
    got = envelope["data"]
    today = datetime.now(UTC).astimezone(shop.settings.tz)
    assert re.match(rf"^ZT-{today:%Y%m%d}-\d{{3}}$", got["order_id"])
    assert got["order_id"] != "ZT-20241025-001"  # the client's order id is not taken
    assert got["payment_id"] == data["payment_id"]
    assert got["status"] == "pending"
    assert got["amount"] == {"value": "2000.00", "currency": "RUB"}
    assert got["refunded_amount"] == {"value": "0.00", "currency": "RUB"}
    assert got["payment_method"] is None
    assert ISO_Z.match(got["created_at"])
    assert got["captured_at"] is None
    assert got["metadata"] == {"qr_codes_issued": False, "tickets_activated": False}
    assert got["customer"] == {
        "email": "visitor@example.com",
        "phone": "+79991111111",
        "user_id": "12345",
    }
    assert got["confirmation"] == SEED_SESSION["confirmation"]
    assert got["description"] == "Билеты в зоопарк на 25.10.2024"
    # YooKassa's id finds the same payment.
    assert (await _get(client, token, remote["id"]))["payment_id"] == data["payment_id"]

    await shop.yookassa.pay(remote["id"])

    async def settled() -> bool:
        now = await _get(client, token, data["payment_id"])
        return bool(now["status"] == "succeeded" and now["metadata"]["qr_codes_issued"])

    await _eventually(settled)
    paid = await _get(client, token, data["payment_id"])
    assert paid["payment_method"] == "bank_card"
    assert ISO_Z.match(paid["captured_at"])
    assert paid["metadata"] == {"qr_codes_issued": True, "tickets_activated": False}
    assert await _tickets(shop, got["order_id"]) == 2
    assert shop.yookassa.payments[remote["id"]]["status"] == "succeeded"


async def test_session_validation_names_the_field(client: httpx.AsyncClient, shop: Shop) -> None:
    token = await _login(client, shop, ALICE)

    def variant(change: Callable[[JSON], None]) -> JSON:
        body = _session_body(shop)
        change(body)
        return body

    def item(**values: Any) -> Callable[[JSON], None]:
        return lambda body: body["items"][0].update(values)

    def price(value: object) -> Callable[[JSON], None]:
        return lambda body: body["items"][0]["unit_price"].update(value=value)

    def total(value: object) -> Callable[[JSON], None]:
        return lambda body: body["order"]["total_amount"].update(value=value)

    def second_line_on(days: int) -> Callable[[JSON], None]:
        def change(body: JSON) -> None:
            line = {
                **body["items"][0],
                "ticket_type": "child",
                "quantity": 1,
                "unit_price": {"value": "500.00", "currency": "RUB"},
                "visit_date": _visit_day(shop, days).isoformat(),
            }
            body["items"].append(line)
            body["order"]["total_amount"]["value"] = "2500.00"

        return change

    def too_many(body: JSON) -> None:
        item(quantity=21)(body)
        total("21000.00")(body)

    cases: list[tuple[str, Callable[[JSON], None], str]] = [
        ("unit price off the catalog", price("900.00"), "items.0.unit_price"),
        ("wrong total", total("2500.00"), "order.total_amount"),
        ("one decimal", price("1000.0"), "items.0.unit_price.value"),
        ("three decimals", price("1000.000"), "items.0.unit_price.value"),
        ("total with one decimal", total("2000.0"), "order.total_amount.value"),
        ("total with three decimals", total("2000.000"), "order.total_amount.value"),
        ("price as a number", price(1000.00), "items.0.unit_price.value"),
        ("negative price", price("-1000.00"), "items.0.unit_price.value"),
        ("another currency", lambda b: b["items"][0]["unit_price"].update(currency="USD"),
         "items.0.unit_price.currency"),
        ("quantity 0", item(quantity=0), "items.0.quantity"),
        ("negative quantity", item(quantity=-2), "items.0.quantity"),
        ("unknown ticket type", item(ticket_type="vip"), "items.0.ticket_type"),
        ("unknown slot", item(visit_time="11:00"), "items.0.visit_time"),
        ("not a time", item(visit_time="25:00"), "items.0.visit_time"),
        ("past date", item(visit_date=_visit_day(shop, -1).isoformat()), "items.0.visit_date"),
        ("beyond the window", item(visit_date=_visit_day(shop, 31).isoformat()),
         "items.0.visit_date"),
        ("not a date", item(visit_date="2024-02-30"), "items.0.visit_date"),
        ("items for two dates", second_line_on(2), "items.1.visit_date"),
        ("no items", lambda b: b.update(items=[]), "items"),
        ("too many tickets", too_many, "items"),
        ("bad return url", lambda b: b["confirmation"].update(return_url="javascript:x"),
         "confirmation.return_url"),
        ("bad e-mail", lambda b: b["customer"].update(email="nope"), "customer.email"),
        ("no order", lambda b: b.pop("order"), "order"),
    ]  # fmt: skip
    for name, change, field in cases:
        response = await client.post(
            "/v1/payments/sessions", json=variant(change), headers=_auth(token)
        )
        assert response.status_code == 422, (name, response.text)
        assert field in _invalid(response), (name, response.json())
    mispriced = await client.post(
        "/v1/payments/sessions", json=variant(price("900.00")), headers=_auth(token)
    )
    assert "1000.00" in mispriced.json()["errors"][0]["message"]
    broken = await client.post(
        "/v1/payments/sessions",
        content=b"{not json",
        headers={**_auth(token), "Content-Type": "application/json"},
    )
    _error(broken, 422)
    not_utf8 = await client.post(
        "/v1/payments/sessions",
        content=b'{"order": "\xff\xfe"}',
        headers={**_auth(token), "Content-Type": "application/json"},
    )
    _error(not_utf8, 400)
    assert shop.yookassa.payments == {}
    assert (
        await _count(shop, select(func.count(SlotInventory.id)).where(SlotInventory.held > 0)) == 0
    )


async def test_sold_out_slot_is_409(client: httpx.AsyncClient, shop: Shop) -> None:
    token = await _login(client, shop, ALICE)
    await _new_session(client, token, _session_body(shop, adults=2))
    visit = _visit_day(shop)
    async with shop.service.sessionmaker.begin() as session:
        await session.execute(
            update(SlotInventory)
            .where(SlotInventory.visit_date == visit, SlotInventory.slot_time == "10:00")
            .values(capacity=3, capacity_overridden=True)
        )
    response = await client.post(
        "/v1/payments/sessions", json=_session_body(shop, adults=2), headers=_auth(token)
    )
    body = _error(response, 409)
    assert "1 left" in body["message"]
    assert len(shop.yookassa.payments) == 1
    # One seat still fits; then the slot is full.
    await _new_session(client, token, _session_body(shop, adults=1))
    full = await client.post(
        "/v1/payments/sessions", json=_session_body(shop, adults=1), headers=_auth(token)
    )
    assert "0 left" in _error(full, 409)["message"]
    # Another slot of the same day is not affected.
    other = _session_body(shop, adults=1)
    other["items"][0]["visit_time"] = "12:00"
    await _new_session(client, token, other)


# ---- /v1/payments/{payment_id}: PUT, PATCH, DELETE -------------------------------------------


async def test_owner_updates_but_cannot_change_the_amount(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await _login(client, shop, ALICE)
    payment_id = (await _new_session(client, token, _session_body(shop)))["payment_id"]
    for method, body in (("PUT", SEED_PUT), ("PATCH", SEED_PATCH)):
        response = await client.request(
            method, f"/v1/payments/{payment_id}", json=body, headers=_auth(token)
        )
        assert "admin" in _error(response, 403)["message"].lower()
    assert len(_at_yookassa(shop, payment_id)) == 1
    unchanged = await _get(client, token, payment_id)
    assert unchanged["amount"]["value"] == "2000.00"
    assert unchanged["customer"]["email"] == "visitor@example.com"

    put = await client.put(
        f"/v1/payments/{payment_id}",
        json={k: v for k, v in SEED_PUT.items() if k != "amount"},
        headers=_auth(token),
    )
    assert put.status_code == 200, put.text
    data = put.json()["data"]
    assert put.json()["message"] == "Payment updated successfully"
    assert data["description"] == "Updated payment description"
    assert data["metadata"]["additional_info"] == "updated_data"
    assert data["metadata"]["updated_fields"] == ["description", "metadata"]
    assert data["amount"]["value"] == "2000.00"

    patch = await client.patch(
        f"/v1/payments/{payment_id}",
        json={k: v for k, v in SEED_PATCH.items() if k != "amount"},
        headers=_auth(token),
    )
    assert patch.status_code == 200, patch.text
    data = patch.json()["data"]
    assert data["customer"] == {
        "email": "newemail@example.com",
        "phone": "+79992222222",
        "user_id": "12345",
    }
    assert data["metadata"]["updated_fields"] == ["customer"]
    assert data["metadata"]["additional_info"] == "updated_data"  # PATCH keeps the rest
    assert data["description"] == "Updated payment description"

    # PUT replaces the client's metadata.
    put = await client.put(
        f"/v1/payments/{payment_id}", json={"metadata": {"k": 1}}, headers=_auth(token)
    )
    assert put.json()["data"]["metadata"] == {
        "k": 1,
        "qr_codes_issued": False,
        "tickets_activated": False,
        "updated_fields": ["metadata"],
    }
    for body, field in (
        ({"amount": {"value": "3000.0", "currency": "RUB"}}, "amount.value"),
        ({"amount": {"value": "3000.000", "currency": "RUB"}}, "amount.value"),
        ({"customer": {"phone": "12"}}, "customer.phone"),
        ({"metadata": {"qr_codes_issued": True}}, "metadata.qr_codes_issued"),
        ({"description": "x" * 101}, "description"),
    ):
        response = await client.patch(f"/v1/payments/{payment_id}", json=body, headers=_auth(token))
        assert field in _invalid(response), body
    final = await _get(client, token, payment_id)
    assert final["metadata"] == {"k": 1, "qr_codes_issued": False, "tickets_activated": False}


async def test_admin_put_replaces_the_amount_and_the_old_link_cannot_be_paid(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await _login(client, shop, ALICE)
    admin = await _login(client, shop, ADMIN_ID)
    created = await _new_session(client, alice, _session_body(shop))
    payment_id = created["payment_id"]
    (old,) = _at_yookassa(shop, payment_id)

    response = await client.put(f"/v1/payments/{payment_id}", json=SEED_PUT, headers=_auth(admin))
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    data = response.json()["data"]
    assert data["payment_id"] == payment_id
    assert data["status"] == "pending"
    assert data["amount"] == {"value": "3000.00", "currency": "RUB"}
    assert data["description"] == "Updated payment description"
    assert data["metadata"]["additional_info"] == "updated_data"
    assert data["metadata"]["updated_fields"] == ["amount", "description", "metadata"]
    assert ISO_Z.match(data["updated_at"])
    replaced, new = _at_yookassa(shop, payment_id)
    assert replaced["id"] == old["id"]
    assert new["amount"] == {"value": "3000.00", "currency": "RUB"}
    assert [sent["capture"] for sent in _sent(shop, payment_id)] == [False, False]
    assert data["confirmation_url"] == new["confirmation"]["confirmation_url"]
    assert data["confirmation_url"] != created["confirmation_url"]
    owner_view = await _get(client, alice, payment_id)
    assert owner_view["amount"]["value"] == "3000.00"

    # The payer opens the old link and pays 2000.00: authorised, then canceled, never captured.
    authorised = await shop.yookassa.pay(old["id"])
    assert authorised["status"] == "waiting_for_capture"

    async def old_canceled() -> bool:
        return bool(shop.yookassa.payments[old["id"]]["status"] == "canceled")

    await _eventually(old_canceled)
    # Both notifications of the old payment answered: nothing more can come of them.
    await shop.yookassa.wait_notifications()
    assert sorted(_deliveries(shop, old["id"])) == [
        ("payment.canceled", 200),
        ("payment.waiting_for_capture", 200),
    ]
    assert shop.yookassa.payments[old["id"]]["status"] == "canceled"
    assert not [r for r in shop.yookassa.requests if r.path.endswith(f"{old['id']}/capture")]
    still = await _get(client, alice, payment_id)
    assert still["status"] == "pending"
    assert still["metadata"]["qr_codes_issued"] is False
    assert await _tickets(shop, still["order_id"]) == 0

    # The new link pays the new amount and delivers the tickets.
    await shop.yookassa.pay(new["id"])

    async def delivered() -> bool:
        return await _tickets(shop, still["order_id"]) == 2

    await _eventually(delivered)
    paid = await _get(client, alice, payment_id)
    assert paid["status"] == "succeeded"
    assert shop.yookassa.payments[new["id"]]["amount"]["value"] == "3000.00"
    assert shop.yookassa.payments[new["id"]]["status"] == "succeeded"

    # A paid payment cannot be changed any more.
    for method, body in (("PUT", SEED_PUT), ("PATCH", SEED_PATCH)):
        response = await client.request(
            method, f"/v1/payments/{payment_id}", json=body, headers=_auth(admin)
        )
        _error(response, 400)
    response = await client.patch(
        f"/v1/payments/{payment_id}", json={"description": "late"}, headers=_auth(alice)
    )
    _error(response, 400)


async def test_admin_patch_with_the_seed_body(client: httpx.AsyncClient, shop: Shop) -> None:
    alice = await _login(client, shop, ALICE)
    admin = await _login(client, shop, ADMIN_ID)
    payment_id = (await _new_session(client, alice, _session_body(shop)))["payment_id"]
    response = await client.patch(
        f"/v1/payments/{payment_id}", json=SEED_PATCH, headers=_auth(admin)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Payment updated successfully"
    data = body["data"]
    assert data["payment_id"] == payment_id
    assert data["status"] == "pending"
    assert data["amount"] == {"value": "2800.00", "currency": "RUB"}
    assert data["refunded_amount"] == {"value": "0.00", "currency": "RUB"}
    assert data["payment_method"] is None
    assert data["captured_at"] is None
    assert ISO_Z.match(data["created_at"])
    assert ISO_Z.match(data["updated_at"])
    assert data["confirmation"] == SEED_SESSION["confirmation"]
    assert data["customer"] == {
        "email": "newemail@example.com",
        "phone": "+79992222222",
        "user_id": "12345",
    }
    assert data["metadata"] == {
        "qr_codes_issued": False,
        "tickets_activated": False,
        "updated_fields": ["amount", "customer"],
    }
    assert data["description"] == "Билеты в зоопарк на 25.10.2024"
    old, new = _at_yookassa(shop, payment_id)
    assert new["amount"]["value"] == "2800.00"
    assert _sent(shop, payment_id)[1]["receipt"]["customer"] == {"email": "newemail@example.com"}
    assert old["status"] == "pending"

    zero = await client.patch(
        f"/v1/payments/{payment_id}",
        json={"amount": {"value": "0.00", "currency": "RUB"}},
        headers=_auth(admin),
    )
    assert _invalid(zero) == ["amount.value"]
    # A subscription's amount is its plan's price: not even an admin changes it.
    created = await client.post("/api/v2/payments/create", json=SEED_CREATE, headers=_auth(alice))
    subscription_id = created.json()["paymentId"]
    response = await client.put(
        f"/v1/payments/{subscription_id}", json=SEED_PUT, headers=_auth(admin)
    )
    assert "plan" in _error(response, 400)["message"]
    assert shop.yookassa.payments[subscription_id]["amount"]["value"] == "299.00"
    assert len(_at_yookassa(shop, payment_id)) == 2


async def _decline(client: httpx.AsyncClient, shop: Shop, token: str, payment_id: str) -> None:
    """YooKassa declines the payment; return once its owner sees it canceled."""
    (remote,) = _at_yookassa(shop, payment_id)
    await shop.yookassa.decline(remote["id"])

    async def canceled() -> bool:
        return bool((await _get(client, token, payment_id))["status"] == "canceled")

    await _eventually(canceled)


async def test_delete_only_canceled_payments_by_an_admin(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await _login(client, shop, ALICE)
    admin = await _login(client, shop, ADMIN_ID)
    payment_id = (await _new_session(client, alice, _session_body(shop)))["payment_id"]
    pending = await client.delete(f"/v1/payments/{payment_id}", headers=_auth(admin))
    assert "canceled" in _error(pending, 400)["message"]

    await _decline(client, shop, alice, payment_id)
    _error(await client.delete(f"/v1/payments/{payment_id}", headers=_auth(alice)), 403)
    for method, body in (("PUT", SEED_PUT), ("PATCH", SEED_PATCH)):
        response = await client.request(
            method, f"/v1/payments/{payment_id}", json=body, headers=_auth(admin)
        )
        _error(response, 400)

    other_id = (await _new_session(client, alice, _session_body(shop)))["payment_id"]

    def events_of(pid: str) -> Any:
        return select(func.count(PaymentEvent.id)).where(PaymentEvent.payment_id == pid)

    assert await _count(shop, events_of(payment_id)) > 0  # its decline, at least
    others = await _count(shop, events_of(other_id))
    deleted = await client.delete(f"/v1/payments/{payment_id}", headers=_auth(admin))
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert body["success"] is True
    assert body["message"] == "Payment deleted successfully"
    assert body["data"]["payment_id"] == payment_id
    assert ISO_Z.match(body["data"]["deleted_at"])
    for token in (alice, admin):
        gone = await client.get(f"/v1/payments/{payment_id}", headers=_auth(token))
        assert _error(gone, 404)["message"] == "Payment not found"
    _error(await client.delete(f"/v1/payments/{payment_id}", headers=_auth(admin)), 404)
    assert await _count(shop, select(func.count(Payment.id))) == 1
    # Its history went with it; the other payment's stayed.
    assert await _count(shop, events_of(payment_id)) == 0
    assert await _count(shop, events_of(other_id)) == others


# Stands for a writer that changes the payment between the admin's read and the DELETE (YooKassa
# authorising it after all): the DELETE finds no canceled row.
SKIP_DELETES = {
    "sqlite": (
        "CREATE TRIGGER keep_payments BEFORE DELETE ON payments BEGIN SELECT RAISE(IGNORE); END",
    ),
    "postgresql": (
        "CREATE FUNCTION keep_payments() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN NULL; END $$",
        "CREATE TRIGGER keep_payments BEFORE DELETE ON payments FOR EACH ROW "
        "EXECUTE FUNCTION keep_payments()",
    ),
}


async def test_a_delete_that_finds_the_payment_changed_keeps_it_and_its_history(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    alice = await _login(client, shop, ALICE)
    admin = await _login(client, shop, ADMIN_ID)
    payment_id = (await _new_session(client, alice, _session_body(shop)))["payment_id"]
    await _decline(client, shop, alice, payment_id)
    history = select(func.count(PaymentEvent.id)).where(PaymentEvent.payment_id == payment_id)
    events = await _count(shop, history)
    async with shop.service.sessionmaker.begin() as session:
        for statement in SKIP_DELETES[session.get_bind().dialect.name]:
            await session.execute(text(statement))

    refused = await client.delete(f"/v1/payments/{payment_id}", headers=_auth(admin))
    assert "changed" in _error(refused, 400)["message"]
    assert (await _get(client, alice, payment_id))["status"] == "canceled"
    assert await _count(shop, history) == events > 0


async def test_another_users_payment_is_404(client: httpx.AsyncClient, shop: Shop) -> None:
    alice = await _login(client, shop, ALICE)
    bob = await _login(client, shop, BOB)
    payment_id = (await _new_session(client, alice, _session_body(shop)))["payment_id"]
    (remote,) = _at_yookassa(shop, payment_id)
    created = await client.post("/api/v2/payments/create", json=SEED_CREATE, headers=_auth(alice))
    subscription_id = created.json()["paymentId"]

    missing = await client.get("/v1/payments/ZT_0000000000", headers=_auth(bob))
    not_found = _error(missing, 404)
    for ident in (payment_id, remote["id"], subscription_id):
        attempts = [
            ("GET", f"/v1/payments/{ident}", None),
            ("PUT", f"/v1/payments/{ident}", {"description": "mine now"}),
            ("PATCH", f"/v1/payments/{ident}", {"customer": {"email": "bob@example.com"}}),
            ("PUT", f"/v1/payments/{ident}", SEED_PUT),
            ("PATCH", f"/v1/payments/{ident}", SEED_PATCH),
            ("DELETE", f"/v1/payments/{ident}", None),
            ("GET", f"/api/v2/payments/status?paymentId={ident}", None),
        ]
        for method, url, body in attempts:
            response = await client.request(method, url, json=body, headers=_auth(bob))
            # Indistinguishable from a payment that does not exist.
            assert _error(response, 404) == not_found, (method, url)
    mine = await _get(client, alice, payment_id)
    assert mine["description"] == "Билеты в зоопарк на 25.10.2024"
    assert mine["customer"]["email"] == "visitor@example.com"
    assert mine["amount"]["value"] == "2000.00"
    assert len(shop.yookassa.payments) == 2
    status = await client.get(
        "/api/v2/payments/status", params={"paymentId": subscription_id}, headers=_auth(alice)
    )
    assert status.json() == {"status": "pending", "paid": False}
