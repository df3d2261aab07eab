"""The YooKassa API v3 wire format as the sandbox checks it: error envelope, request fields,
Basic auth and idempotence keys. Every check answers the way YooKassa does (yookassa.md).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from payments.money import MoneyError, parse_money, quantize, wire

log = logging.getLogger(__name__)

SANDBOX_SHOP_ID = "sandbox"
# Well-known by design: the sandbox guards nothing of value, the check only mirrors YooKassa.
SANDBOX_SECRET_KEY = "sandbox_secret"  # noqa: S105

JSON = dict[str, Any]
Handler = Callable[[Request, Any], JSON]

_EXPECTED_AUTH = f"{SANDBOX_SHOP_ID}:{SANDBOX_SECRET_KEY}".encode()
_IDEMPOTENCE_TTL = 24 * 3600.0  # YooKassa keeps idempotence keys for 24 hours
# Paths served by the API, to tell 405 (wrong method) from 404 (no such path).
_KNOWN_PATHS = re.compile(r"/payments(/[^/]+(/capture|/cancel)?)?|/refunds(/[^/]+)?")


class ApiError(Exception):
    """An error answer, rendered in YooKassa's envelope."""

    def __init__(
        self, status: int, code: str, description: str, parameter: str | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.parameter = parameter

    def body(self) -> JSON:
        """Return the error envelope (``parameter`` omitted when absent, never null)."""
        out: JSON = {
            "type": "error",
            "id": str(uuid.uuid4()),
            "code": self.code,
            "description": self.description,
        }
        if self.parameter is not None:
            out["parameter"] = self.parameter
        return out


def bad(description: str, parameter: str | None = None) -> ApiError:
    """Return a 400 ``invalid_request`` error naming the parameter."""
    return ApiError(400, "invalid_request", description, parameter)


@dataclass
class _Stored:
    """An answer kept for an idempotence key."""

    fingerprint: tuple[str, Any]
    status: int
    body: JSON
    stored_at: float


def iso(dt: datetime) -> str:
    """Format an instant as YooKassa does: UTC with milliseconds and a ``Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def money_json(value: Decimal) -> JSON:
    """Return an amount object in roubles."""
    return {"value": wire(value), "currency": "RUB"}


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def parse_body(raw: bytes) -> Any:
    """Parse a request body as JSON, numbers as Decimal (None when empty)."""
    if not raw.strip():
        return None
    try:
        # parse_float=Decimal: money never passes through a float.
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise bad("Failed to parse request body") from None


def as_object(raw: Any, parameter: str | None) -> JSON:
    """Return ``raw`` if it is a JSON object, else a 400 naming ``parameter``."""
    if not isinstance(raw, dict):
        raise bad("Invalid request parameter", parameter)
    return raw


def parse_amount(raw: Any, parameter: str = "amount") -> Decimal:
    """Return a positive RUB amount from an amount object, or a 400 naming the field."""
    value = as_object(raw, parameter).get("value")
    try:
        if not isinstance(value, str):
            raise MoneyError("amount value must be a string")
        amount = parse_money(value, strict=True)
    except MoneyError:
        raise bad("Invalid amount value", f"{parameter}.value") from None
    if amount <= 0:
        raise bad("Amount must be greater than zero", f"{parameter}.value")
    if raw.get("currency") != "RUB":
        raise bad("The sandbox accepts only RUB", f"{parameter}.currency")
    return amount


def parse_text(raw: Any, limit: int, parameter: str) -> str:
    """Return a string of at most ``limit`` characters, or a 400."""
    if not isinstance(raw, str):
        raise bad("Invalid request parameter", parameter)
    if len(raw) > limit:
        raise bad(f"Description is too long. Max. length is {limit}", parameter)
    return raw


def parse_metadata(raw: Any) -> dict[str, str]:
    """Return metadata within YooKassa's limits (16 keys of 32, values of 512), or a 400."""
    meta = as_object(raw, "metadata")
    if len(meta) > 16:
        raise bad("Metadata object is limited to 16 keys", "metadata")
    for key, value in meta.items():
        if len(key) > 32 or not isinstance(value, str) or len(value) > 512:
            raise bad("Metadata keys are up to 32 chars, values strings up to 512", "metadata")
    return dict(meta)


def check_receipt(raw: Any, total: Decimal) -> None:
    """Check a 54-FZ receipt: a contact, 1-100 valid items adding up to ``total``."""
    receipt = as_object(raw, "receipt")
    customer = receipt.get("customer")
    contacts = [receipt.get("email"), receipt.get("phone")]
    if isinstance(customer, dict):
        contacts += [customer.get("email"), customer.get("phone")]
    if not any(contacts):
        raise bad("Receipt customer must contain email or phone", "receipt.customer")
    items = receipt.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise bad("Receipt items must be a non-empty list (max. 100)", "receipt.items")
    items_sum = Decimal(0)
    for index, raw_item in enumerate(items):
        param = f"receipt.items[{index}]"
        item = as_object(raw_item, param)
        text = item.get("description")
        if not isinstance(text, str) or not 1 <= len(text) <= 128:
            raise bad("Invalid receipt item description", f"{param}.description")
        quantity = item.get("quantity")
        try:
            # The SDK sends quantity as a string ("1.0"); a JSON number arrives as Decimal.
            if isinstance(quantity, bool) or not isinstance(quantity, str | int | Decimal):
                raise InvalidOperation
            count = Decimal(str(quantity))
            if not count.is_finite() or count <= 0:
                raise InvalidOperation
        except InvalidOperation:
            raise bad("Invalid receipt item quantity", f"{param}.quantity") from None
        price = parse_amount(item.get("amount"), f"{param}.amount")
        vat = item.get("vat_code")
        if isinstance(vat, bool) or not isinstance(vat, int) or not 1 <= vat <= 12:
            raise bad("Invalid vat_code", f"{param}.vat_code")
        items_sum += quantize(price * count)
    if items_sum != total:
        raise bad(
            f"Sum of receipt items ({wire(items_sum)}) does not match the amount ({wire(total)})",
            "receipt.items",
        )


def check_auth(header: str | None) -> None:
    """Check HTTP Basic auth against the sandbox shop id and secret key (401 otherwise)."""
    if not header:
        raise ApiError(401, "invalid_credentials", "Authorization header not found")
    scheme, _, token = header.partition(" ")
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except binascii.Error:
        decoded = b""
    if scheme.lower() != "basic" or not secrets.compare_digest(decoded, _EXPECTED_AUTH):
        raise ApiError(401, "invalid_credentials", "Basic authentication failed")


class IdempotenceStore:
    """Answers kept by ``Idempotence-Key`` for 24 hours, as YooKassa keeps them."""

    def __init__(self) -> None:
        """Start empty."""
        self._stored: dict[str, _Stored] = {}

    def answer(self, request: Request, raw: bytes, handler: Handler) -> JSONResponse:
        """Replay the answer kept for the request's key, or run ``handler`` and keep its answer."""
        key = request.headers.get("Idempotence-Key")
        if not key:
            raise bad("Idempotence key is empty", "Idempotence-Key")
        if len(key) > 64:
            raise bad("Idempotence key is too long. Max. length is 64", "Idempotence-Key")
        body = parse_body(raw)
        now = time.monotonic()
        # Entries are in insertion (= time) order, so expired ones sit at the front.
        while self._stored:
            oldest_key, oldest = next(iter(self._stored.items()))
            if now - oldest.stored_at < _IDEMPOTENCE_TTL:
                break
            del self._stored[oldest_key]
        fingerprint = (request.url.path, body)
        stored = self._stored.get(key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise bad("Idempotence key duplicated", "Idempotence-Key")
            return JSONResponse(copy.deepcopy(stored.body), status_code=stored.status)
        try:
            status, result = 200, handler(request, body)
        except ApiError as exc:
            status, result = exc.status, exc.body()
        self._stored[key] = _Stored(fingerprint, status, copy.deepcopy(result), now)
        return JSONResponse(result, status_code=status)


def api_endpoint(
    handler: Handler, idempotence: IdempotenceStore | None
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: auth, idempotence (when a store is given), a JSON envelope for errors."""

    async def endpoint(request: Request) -> Response:
        try:
            raw = await request.body()
            check_auth(request.headers.get("Authorization"))
            if idempotence is None:
                return JSONResponse(handler(request, None))
            return idempotence.answer(request, raw, handler)
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except Exception:
            # The SDK cannot parse a non-JSON body, so even our own bugs answer in the envelope.
            log.exception("SANDBOX: unexpected error on %s %s", request.method, request.url.path)
            error = ApiError(500, "internal_server_error", "Internal server error")
            return JSONResponse(error.body(), status_code=500)

    return endpoint


async def unknown_route(request: Request) -> JSONResponse:
    """Any other API path: 405 for a known path with another method, else 404."""
    rest = "/" + request.path_params["rest"]
    if _KNOWN_PATHS.fullmatch(rest):
        error = ApiError(405, "invalid_request", f"Method {request.method} is not allowed")
    else:
        error = ApiError(404, "not_found", "Not found")
    return JSONResponse(error.body(), status_code=error.status)
