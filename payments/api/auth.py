"""Authentication: Telegram Mini App init data → short-lived JWT; Bearer tokens on the API."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from payments.api.errors import ApiError

ISSUER = "zooticket-bot"
ALGORITHM = "HS256"
ROLE_ADMIN = "admin"
ROLE_USER = "user"
MAX_INIT_DATA_LENGTH = 4096
# Telegram's Mini App convention for sending init data to a backend (telegram.md §7.1).
INIT_DATA_SCHEME = "tma"
INIT_DATA_FIELD = "initData"
# Form fields that may carry it: ours, and aiogram's web_app example's `_auth`.
INIT_DATA_FORM_FIELDS = (INIT_DATA_FIELD, "_auth")


class InitDataError(ValueError):
    """Init data that does not prove a Telegram user."""


@dataclass(frozen=True, slots=True)
class WebAppUser:
    """The Telegram user the init data vouches for."""

    id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    language_code: str | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the API."""

    user_id: str
    is_admin: bool


def verify_init_data(
    init_data: str, bot_token: str, max_age_seconds: int, now: datetime
) -> WebAppUser:
    """Check Mini App init data: HMAC-SHA256 with the `WebAppData` key, and `auth_date` freshness.

    data_check_string is every field but `hash`, sorted, `key=value` joined by newlines
    (`signature` stays in). See telegram.md §7.1.
    """
    if not init_data or len(init_data) > MAX_INIT_DATA_LENGTH:
        raise InitDataError("init data is missing or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise InitDataError("init data is not a query string") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("init data repeats a field")
    received = fields.pop("hash", None)
    if not received:
        raise InitDataError("init data has no hash")
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received.lower()):
        raise InitDataError("init data signature does not match this bot")
    raw_date = fields.get("auth_date", "")
    if not (raw_date.isascii() and raw_date.isdigit()):
        raise InitDataError("init data has no valid auth_date")
    auth_date = int(raw_date)
    age = now.timestamp() - auth_date
    if age > max_age_seconds or age < -60:  # noqa: PLR2004 - a minute of clock skew
        raise InitDataError("init data is too old")
    try:
        user: Any = json.loads(fields["user"])
    except (KeyError, ValueError) as exc:
        raise InitDataError("init data has no user") from exc
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or user["id"] <= 0:
        raise InitDataError("init data has no user id")
    return WebAppUser(
        id=user["id"],
        first_name=_text(user.get("first_name")),
        last_name=_text(user.get("last_name")),
        username=_text(user.get("username")),
        language_code=_text(user.get("language_code")),
    )


def _text(value: Any) -> str | None:
    return value[:128] if isinstance(value, str) else None


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """Sign init data as Telegram does (for tests and local Mini App development)."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


async def submitted_init_data(request: Request) -> str:
    """Return the init data a sign-in request carries, wherever the client put it.

    `Authorization: tma <initData>` first (the Mini App convention), then a POST body (JSON
    `{"initData": ...}`, a form field `initData` or `_auth`, or a form body that is the init
    data itself), then, for GET only, the query string as the seed sends it. The query string
    is the one place that reaches access logs, which is why the other two exist.
    """
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == INIT_DATA_SCHEME:
        return value.strip()
    if request.method != "POST":
        return request.url.query
    body = await request.body()
    if not body:
        return ""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise ApiError(400, "The body is not UTF-8") from None
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return _json_init_data(text)
    if media_type in {"", "application/x-www-form-urlencoded", "text/plain"}:
        try:
            fields = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            fields = []
        named = [value for key, value in fields if key in INIT_DATA_FORM_FIELDS]
        return named[0] if len(named) == 1 else text
    raise ApiError(
        415,
        'Send the init data as JSON {"initData": ...}, as a form, '
        "or in Authorization: tma <initData>",
    )


def _json_init_data(text: str) -> str:
    try:
        payload: Any = json.loads(text)
    except ValueError:
        payload = None
    value = payload.get(INIT_DATA_FIELD) if isinstance(payload, dict) else None
    if not isinstance(value, str):
        raise ApiError(
            422,
            "Validation failed",
            errors=[{"field": INIT_DATA_FIELD, "message": "the Mini App's initData string"}],
        )
    return value


class Tokens:
    """Issue and check the API's JWTs."""

    def __init__(self, secret: str, ttl_minutes: int) -> None:
        """Keep the HMAC secret and the lifetime."""
        self._secret = secret
        self._ttl = timedelta(minutes=ttl_minutes)

    def issue(self, user_id: str, *, is_admin: bool, now: datetime) -> str:
        """Return a token for a user."""
        claims = {
            "sub": user_id,
            "role": ROLE_ADMIN if is_admin else ROLE_USER,
            "iss": ISSUER,
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
        }
        import jwt  # on the first Mini App sign-in, not at start-up (~2.5 MiB)

        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def check(self, token: str) -> Principal:
        """Return the principal of a valid token; raise ApiError(401) otherwise."""
        import jwt

        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
        except jwt.PyJWTError:
            raise ApiError(401, "Invalid or expired token") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise ApiError(401, "Invalid or expired token")
        return Principal(user_id=subject, is_admin=claims.get("role") == ROLE_ADMIN)


_bearer = HTTPBearer(auto_error=False, description="JWT from /api/v2/auth/verify")


def _principal(request: Request, token: str) -> Principal:
    """Check the token, then the admin role against today's ADMIN_IDS, not the issuing day's.

    A token says "admin" for as long as it lives; someone removed from ADMIN_IDS since must not
    keep acting as one until it expires.
    """
    principal = _tokens(request).check(token)
    if principal.is_admin:
        admin_ids: frozenset[int] = request.app.state.api.admin_ids
        still_admin = principal.user_id.isdigit() and int(principal.user_id) in admin_ids
        if not still_admin:
            return Principal(user_id=principal.user_id, is_admin=False)
    return principal


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Return the caller from the Bearer token (401 without a valid one)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "Authorization: Bearer <token> is required")
    return _principal(request, credentials.credentials)


def _tokens(request: Request) -> Tokens:
    tokens: Tokens = request.app.state.api.tokens
    return tokens


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """Return the caller if a valid token was sent (401 for an invalid one), else None."""
    if credentials is None:
        return None
    return _principal(request, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def is_staff(request: Request, principal: Principal) -> bool:
    """Whether the caller may check tickets in: gate staff (STAFF_IDS) or an admin, as of now."""
    if principal.is_admin:
        return True
    staff_ids: frozenset[int] = request.app.state.api.staff_ids
    return principal.user_id.isdigit() and int(principal.user_id) in staff_ids


async def staff_principal(request: Request, principal: CurrentPrincipal) -> Principal:
    """Return the caller if they may check tickets in; 403 for everyone else."""
    if not is_staff(request, principal):
        raise ApiError(403, "Only gate staff and admins may check tickets in")
    return principal


StaffPrincipal = Annotated[Principal, Depends(staff_principal)]
