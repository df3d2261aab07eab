"""Who may sign in as whom, and what the service says about it: test users, admin tokens,
the ways init data may arrive, what the logs keep of a sign-in, and the API docs.

Every shop here is composed by `main.build` as `python main.py` composes it; "real-looking"
credentials are YooKassa credentials pointing at the local fake YooKassa.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import httpx
import jwt
import pytest

from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory
from tests.e2e.test_api import (
    ALICE,
    ISSUER,
    SECRET,
    SEED_TEST_USER,
    _auth,
    _claims,
    _error,
    _init_data,
    _invalid,
    _login,
    _new_session,
    _session_body,
)

# In TEST_USER_IDS by default (the seed's special test id), and made an admin in one test here.
SPECIAL_TEST_ID = 1_272_270_574
FORMER_ADMIN = 777_001
# This test's own HTTP client logs what it sends; the service does not use httpx.
CLIENT_LOGGERS = ("httpx", "httpcore")


def _client(shop: Shop) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=shop.service.base_url, timeout=15)


# ---- /api/v2/auth/test-user ------------------------------------------------------------------


async def test_test_user_with_real_credentials_needs_an_admin_in_development(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(APP_ENV="development", JWT_SECRET=SECRET)
    assert not shop.settings.sandbox and not shop.settings.is_production
    async with _client(shop) as http:
        _error(await http.post("/api/v2/auth/test-user", json=SEED_TEST_USER), 403)
        alice = await _login(http, shop, ALICE)
        refused = await http.post(
            "/api/v2/auth/test-user", json=SEED_TEST_USER, headers=_auth(alice)
        )
        _error(refused, 403)
        # Nobody was created by the refused calls: the id is still new for the admin's call.
        admin = await _login(http, shop, ADMIN_ID)
        made = await http.post("/api/v2/auth/test-user", json=SEED_TEST_USER, headers=_auth(admin))
        assert made.status_code == 200, made.text
        assert made.json()["userId"] == "test_user_1272270574"
        assert made.json()["isFirstOpen"] is True
        assert _claims(made.json()["accessToken"])["role"] == "user"


async def test_test_user_is_open_in_sandbox_mode(make_shop: ShopFactory) -> None:
    shop = await make_shop(sandbox=True, JWT_SECRET=SECRET)
    async with _client(shop) as http:
        made = await http.post("/api/v2/auth/test-user", json=SEED_TEST_USER)
        assert made.status_code == 200, made.text
        assert _claims(made.json()["accessToken"])["sub"] == "test_user_1272270574"


async def test_an_id_in_admin_ids_and_test_user_ids_gets_a_user_token(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(
        sandbox=True, JWT_SECRET=SECRET, ADMIN_IDS=f"{ADMIN_ID},{SPECIAL_TEST_ID}"
    )
    async with _client(shop) as http:
        alice = await _login(http, shop, ALICE)
        alices = (await _new_session(http, alice, _session_body(shop)))["payment_id"]
        made = await http.post("/api/v2/auth/test-user", json={"userId": str(SPECIAL_TEST_ID)})
        assert made.status_code == 200, made.text
        token = made.json()["accessToken"]
        assert _claims(token)["role"] == "user"
        # It acts as a user: another user's payment is not found, as for anyone else.
        _error(await http.get(f"/v1/payments/{alices}", headers=_auth(token)), 404)
        # The same person signing in through Telegram is the admin ADMIN_IDS says.
        signed_in = await _login(http, shop, SPECIAL_TEST_ID)
        assert _claims(signed_in)["role"] == "admin"
        assert (await http.get(f"/v1/payments/{alices}", headers=_auth(signed_in))).is_success


# ---- the admin role, checked on every request -------------------------------------------------


async def test_an_admin_token_of_someone_removed_from_admin_ids_acts_as_a_user(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(JWT_SECRET=SECRET)
    now = int(time.time())
    # Issued while FORMER_ADMIN was in ADMIN_IDS: signed with the shop's secret, role admin.
    claims = {"sub": str(FORMER_ADMIN), "role": "admin", "iss": ISSUER, "iat": now - 60}
    stale = jwt.encode({**claims, "exp": now + 3600}, SECRET, algorithm="HS256")
    async with _client(shop) as http:
        alice = await _login(http, shop, ALICE)
        alices = (await _new_session(http, alice, _session_body(shop)))["payment_id"]
        _error(await http.get(f"/v1/payments/{alices}", headers=_auth(stale)), 404)
        _error(await http.delete(f"/v1/payments/{alices}", headers=_auth(stale)), 404)
        denied = await http.post(
            "/api/v2/auth/test-user", json=SEED_TEST_USER, headers=_auth(stale)
        )
        _error(denied, 403)
        # A current admin's token does what the stale one may not.
        admin = await _login(http, shop, ADMIN_ID)
        read = await http.get(f"/v1/payments/{alices}", headers=_auth(admin))
        assert read.status_code == 200, read.text


# ---- /api/v2/auth/verify: where the init data may be -----------------------------------------


async def test_verify_takes_init_data_from_a_tma_header_and_post_bodies(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(JWT_SECRET=SECRET)
    token = shop.telegram.token
    url = "/api/v2/auth/verify"
    async with _client(shop) as http:
        ways = {
            "GET with tma header": http.get(
                url, headers={"Authorization": f"tma {_init_data(ALICE, token)}"}
            ),
            "POST with tma header": http.post(
                url, headers={"Authorization": f"TMA {_init_data(ALICE, token)}"}
            ),
            "POST JSON": http.post(url, json={"initData": _init_data(ALICE, token)}),
            "POST form field": http.post(url, data={"initData": _init_data(ALICE, token)}),
            "POST form field _auth": http.post(url, data={"_auth": _init_data(ALICE, token)}),
            "POST form as the init data": http.post(
                url,
                content=_init_data(ALICE, token),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
        }
        for way, sent in ways.items():
            response = await sent
            assert response.status_code == 200, (way, response.text)
            assert response.json()["userId"] == str(ALICE), way
            assert _claims(response.json()["accessToken"])["sub"] == str(ALICE), way

        forged = _init_data(ALICE, "123:not-this-bot")
        _error(await http.get(url, headers={"Authorization": f"tma {forged}"}), 401)
        _error(await http.post(url, json={"initData": forged}), 401)
        _error(await http.post(url), 401)
        assert _invalid(await http.post(url, json={"initData": 42})) == ["initData"]
        assert _invalid(await http.post(url, json=["initData"])) == ["initData"]
        _error(
            await http.post(url, content=b"\xff\xfe", headers={"Content-Type": "text/plain"}), 400
        )
        xml = await http.post(url, content=b"<a/>", headers={"Content-Type": "application/xml"})
        _error(xml, 415)
        # A POST never reads the URL: the init data does not belong there.
        _error(await http.post(f"{url}?{_init_data(ALICE, token)}"), 401)


# ---- logs ------------------------------------------------------------------------------------


async def test_a_debug_log_keeps_no_init_data_hash_or_token_of_a_sign_in(
    make_shop: ShopFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop = await make_shop(JWT_SECRET=SECRET, LOG_LEVEL="DEBUG")
    init_data = _init_data(ALICE, shop.telegram.token, query_id="AAHdF6IQAAAAAN0XohDhrOrc")
    digest = init_data.rsplit("hash=", 1)[1]
    async with _client(shop) as http:
        response = await http.get(f"/api/v2/auth/verify?{init_data}")
        assert response.status_code == 200, response.text
        issued = response.json()["accessToken"]
        # Something later that surely logs, so the sign-in's lines are all written by then.
        assert (await http.get("/health")).status_code == 200

    def logged() -> str:
        lines = []
        for record in caplog.records:
            if record.name.startswith(CLIENT_LOGGERS):
                continue
            lines.append(record.getMessage())
            if record.exc_info:
                lines.append(logging.Formatter().formatException(record.exc_info))
        return "\n".join(lines)

    # The access log is on at DEBUG and did record the sign-in: only its query string is gone.
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any('"GET /api/v2/auth/verify HTTP/1.1" 200' in line for line in access), access
    assert any('"GET /health HTTP/1.1" 200' in line for line in access), access
    text = logged()
    for secret in (init_data, digest, "AAHdF6IQAAAAAN0XohDhrOrc", quote('{"id"'), issued):
        assert secret not in text, secret
    assert "auth_date=" not in text
    assert shop.telegram.token not in text


# ---- /docs and /openapi.json -----------------------------------------------------------------


DOC_PATHS = ("/docs", "/openapi.json", "/static/docs/swagger-ui-bundle.js")


@pytest.mark.parametrize(
    ("settings", "served"),
    [
        ({"APP_ENV": "production"}, False),
        ({"APP_ENV": "production", "API_DOCS_ENABLED": "true"}, True),
        ({"APP_ENV": "development"}, True),
        ({"APP_ENV": "development", "API_DOCS_ENABLED": "false"}, False),
    ],
)
async def test_api_docs_are_off_in_production_unless_enabled(
    make_shop: ShopFactory, settings: dict[str, str], served: bool
) -> None:
    shop = await make_shop(JWT_SECRET=SECRET, **settings)
    async with _client(shop) as http:
        for path in DOC_PATHS:
            response = await http.get(path)
            if served:
                assert response.status_code == 200, path
            else:
                _error(response, 404)
        # The API itself is there either way.
        assert (await http.get("/health")).status_code == 200
        assert (
            await http.get(f"/api/v2/auth/verify?{_init_data(ALICE, shop.telegram.token)}")
        ).is_success
