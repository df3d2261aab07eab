"""Sandbox mode: an embedded YooKassa-compatible API and checkout page for shops without keys.

The product keeps its real code path: the official SDK is configured with ``SANDBOX_SHOP_ID`` /
``SANDBOX_SECRET_KEY`` and ``api_url=sandbox.api_url()``, and talks HTTP to the routes added here.
Confirmation URLs open ``/sandbox/checkout/<id>``, where Pay and Decline move the payment on and
send the HTTP notification the way YooKassa would. Everything is marked as a test: ``test: true``
on every object and a SANDBOX banner on the page.

State lives in memory only: a restart of the service forgets every sandbox payment and refund.
No real money moves, ever. Never mount this in production.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import html
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

import aiohttp
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from payments.money import MoneyError, parse_money, quantize, wire

log = logging.getLogger(__name__)

SANDBOX_SHOP_ID = "sandbox"
# Well-known by design: the sandbox guards nothing of value, the check only mirrors YooKassa.
SANDBOX_SECRET_KEY = "sandbox_secret"  # noqa: S105
SANDBOX_GATEWAY_ID = "sandbox"

JSON = dict[str, Any]
_Handler = Callable[[Request, Any], JSON]

_EXPECTED_AUTH = f"{SANDBOX_SHOP_ID}:{SANDBOX_SECRET_KEY}".encode()
_ID_EPOCH = datetime(2000, 1, 1, 12, tzinfo=UTC)  # YooKassa ids start with seconds since this
_IDEMPOTENCE_TTL = 24 * 3600.0  # YooKassa keeps idempotence keys for 24 hours
_CAPTURE_WINDOW = timedelta(days=7)  # bank cards: 7 days to capture or cancel
_FEE = Decimal("0.035")  # a plausible acquiring fee, so income_amount differs from amount
_NOTIFY_TIMEOUT = aiohttp.ClientTimeout(total=10)
# Paths served by the API, to tell 405 (wrong method) from 404 (no such path).
_KNOWN_PATHS = re.compile(r"/payments(/[^/]+(/capture|/cancel)?)?|/refunds(/[^/]+)?")
_STATUS_TEXT = {
    "pending": "waiting for the payer",
    "waiting_for_capture": "authorized; the shop has to capture or cancel it",
    "succeeded": "paid",
    "canceled": "canceled",
}


class _ApiError(Exception):
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


def _bad(description: str, parameter: str | None = None) -> _ApiError:
    return _ApiError(400, "invalid_request", description, parameter)


@dataclass
class _Stored:
    fingerprint: tuple[str, Any]
    status: int
    body: JSON
    stored_at: float


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _money(value: Decimal) -> JSON:
    return {"value": wire(value), "currency": "RUB"}


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def _parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        # parse_float=Decimal: money never passes through a float.
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _bad("Failed to parse request body") from None


def _obj(raw: Any, parameter: str | None) -> JSON:
    if not isinstance(raw, dict):
        raise _bad("Invalid request parameter", parameter)
    return raw


def _amount(raw: Any, parameter: str = "amount") -> Decimal:
    value = _obj(raw, parameter).get("value")
    try:
        if not isinstance(value, str):
            raise MoneyError("amount value must be a string")
        amount = parse_money(value, strict=True)
    except MoneyError:
        raise _bad("Invalid amount value", f"{parameter}.value") from None
    if amount <= 0:
        raise _bad("Amount must be greater than zero", f"{parameter}.value")
    if raw.get("currency") != "RUB":
        raise _bad("The sandbox accepts only RUB", f"{parameter}.currency")
    return amount


def _text(raw: Any, limit: int, parameter: str) -> str:
    if not isinstance(raw, str):
        raise _bad("Invalid request parameter", parameter)
    if len(raw) > limit:
        raise _bad(f"Description is too long. Max. length is {limit}", parameter)
    return raw


def _metadata(raw: Any) -> dict[str, str]:
    meta = _obj(raw, "metadata")
    if len(meta) > 16:
        raise _bad("Metadata object is limited to 16 keys", "metadata")
    for key, value in meta.items():
        if len(key) > 32 or not isinstance(value, str) or len(value) > 512:
            raise _bad("Metadata keys are up to 32 chars, values strings up to 512", "metadata")
    return dict(meta)


def _check_receipt(raw: Any, total: Decimal) -> None:
    receipt = _obj(raw, "receipt")
    customer = receipt.get("customer")
    contacts = [receipt.get("email"), receipt.get("phone")]
    if isinstance(customer, dict):
        contacts += [customer.get("email"), customer.get("phone")]
    if not any(contacts):
        raise _bad("Receipt customer must contain email or phone", "receipt.customer")
    items = receipt.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise _bad("Receipt items must be a non-empty list (max. 100)", "receipt.items")
    items_sum = Decimal(0)
    for index, raw_item in enumerate(items):
        param = f"receipt.items[{index}]"
        item = _obj(raw_item, param)
        text = item.get("description")
        if not isinstance(text, str) or not 1 <= len(text) <= 128:
            raise _bad("Invalid receipt item description", f"{param}.description")
        quantity = item.get("quantity")
        try:
            # The SDK sends quantity as a string ("1.0"); a JSON number arrives as Decimal.
            if isinstance(quantity, bool) or not isinstance(quantity, str | int | Decimal):
                raise InvalidOperation
            count = Decimal(str(quantity))
            if not count.is_finite() or count <= 0:
                raise InvalidOperation
        except InvalidOperation:
            raise _bad("Invalid receipt item quantity", f"{param}.quantity") from None
        price = _amount(item.get("amount"), f"{param}.amount")
        vat = item.get("vat_code")
        if isinstance(vat, bool) or not isinstance(vat, int) or not 1 <= vat <= 12:
            raise _bad("Invalid vat_code", f"{param}.vat_code")
        items_sum += quantize(price * count)
    if items_sum != total:
        raise _bad(
            f"Sum of receipt items ({wire(items_sum)}) does not match the amount ({wire(total)})",
            "receipt.items",
        )


class SandboxYooKassa:
    """In-memory YooKassa API v3 for development without credentials; no real money."""

    api_path = "/sandbox/yookassa/v3"

    def __init__(
        self,
        *,
        public_base_url: str,
        webhook_url: str | None,
        redelivery_delays: Sequence[float] = (1, 5, 30),
    ) -> None:
        """Serve at ``public_base_url``; notify ``webhook_url`` (None: no notifications)."""
        self.public_base_url = public_base_url.rstrip("/")
        self.webhook_url = webhook_url
        self.redelivery_delays = tuple(redelivery_delays)
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._capture: dict[str, bool] = {}
        self._return_urls: dict[str, str] = {}
        self._idempotence: dict[str, _Stored] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def api_url(self) -> str:
        """Return the value for the SDK's ``Configuration.configure(api_url=...)``."""
        return f"{self.public_base_url}{self.api_path}"

    def checkout_url(self, payment_id: str) -> str:
        """Return the page where the payer pays or declines a sandbox payment."""
        return f"{self.public_base_url}/sandbox/checkout/{payment_id}"

    async def pay(self, payment_id: str) -> dict[str, Any]:
        """Pay a pending payment as the payer would (KeyError if unknown; finished: unchanged)."""
        payment = self._lookup(payment_id)
        if payment is None:
            raise KeyError(payment_id)
        if payment["status"] == "pending":
            self._authorize(payment)
        return copy.deepcopy(payment)

    async def decline(self, payment_id: str) -> dict[str, Any]:
        """Decline a pending payment as the bank would (KeyError if unknown; finished: as is)."""
        payment = self._lookup(payment_id)
        if payment is None:
            raise KeyError(payment_id)
        if payment["status"] == "pending":
            self._cancel(payment, "payment_network", "general_decline")
        return copy.deepcopy(payment)

    async def wait_deliveries(self) -> None:
        """Wait until every notification delivery under way has ended (delivered or given up)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel pending notification deliveries and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ HTTP plumbing
    def _api_endpoint(
        self, handler: _Handler, *, idempotent: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: auth, idempotence, and a JSON envelope for every error."""

        async def endpoint(request: Request) -> Response:
            try:
                raw = await request.body()
                self._check_auth(request.headers.get("Authorization"))
                if not idempotent:
                    return JSONResponse(handler(request, None))
                return self._idempotent(request, raw, handler)
            except _ApiError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except Exception:
                # The SDK cannot parse a non-JSON body, so even our own bugs answer in the envelope.
                log.exception(
                    "SANDBOX: unexpected error on %s %s", request.method, request.url.path
                )
                error = _ApiError(500, "internal_server_error", "Internal server error")
                return JSONResponse(error.body(), status_code=500)

        return endpoint

    @staticmethod
    def _check_auth(header: str | None) -> None:
        if not header:
            raise _ApiError(401, "invalid_credentials", "Authorization header not found")
        scheme, _, token = header.partition(" ")
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except binascii.Error:
            decoded = b""
        if scheme.lower() != "basic" or not secrets.compare_digest(decoded, _EXPECTED_AUTH):
            raise _ApiError(401, "invalid_credentials", "Basic authentication failed")

    def _idempotent(self, request: Request, raw: bytes, handler: _Handler) -> JSONResponse:
        key = request.headers.get("Idempotence-Key")
        if not key:
            raise _bad("Idempotence key is empty", "Idempotence-Key")
        if len(key) > 64:
            raise _bad("Idempotence key is too long. Max. length is 64", "Idempotence-Key")
        body = _parse_body(raw)
        now = time.monotonic()
        # Entries are in insertion (= time) order, so expired ones sit at the front.
        while self._idempotence:
            oldest_key, oldest = next(iter(self._idempotence.items()))
            if now - oldest.stored_at < _IDEMPOTENCE_TTL:
                break
            del self._idempotence[oldest_key]
        fingerprint = (request.url.path, body)
        stored = self._idempotence.get(key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise _bad("Idempotence key duplicated", "Idempotence-Key")
            return JSONResponse(copy.deepcopy(stored.body), status_code=stored.status)
        try:
            status, result = 200, handler(request, body)
        except _ApiError as exc:
            status, result = exc.status, exc.body()
        self._idempotence[key] = _Stored(fingerprint, status, copy.deepcopy(result), now)
        return JSONResponse(result, status_code=status)

    # ------------------------------------------------------------------ API handlers
    def _create_payment(self, _request: Request, raw: Any) -> JSON:
        """``POST /payments``: a pending payment with a redirect to the sandbox checkout."""
        body = _obj(raw, None)
        amount = _amount(body.get("amount"))
        capture = body.get("capture", False)  # the API's default, as in production
        if not isinstance(capture, bool):
            raise _bad("Invalid request parameter", "capture")
        if body.get("payment_method_id") is not None:
            raise _bad("Payment method is not saved", "payment_method_id")
        confirmation = _obj(body.get("confirmation"), "confirmation")
        if confirmation.get("type") != "redirect":
            raise _bad("The sandbox supports only redirect confirmation", "confirmation.type")
        return_url = confirmation.get("return_url")
        if not isinstance(return_url, str) or not 1 <= len(return_url) <= 2048:
            raise _bad("Invalid return_url", "confirmation.return_url")
        if body.get("receipt") is not None:
            _check_receipt(body["receipt"], amount)
        payment_id = self._new_id("000f")
        payment: JSON = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": _money(amount),
            "recipient": {"account_id": SANDBOX_SHOP_ID, "gateway_id": SANDBOX_GATEWAY_ID},
            "created_at": _iso(datetime.now(UTC)),
            "confirmation": {
                "type": "redirect",
                "return_url": return_url,
                "confirmation_url": self.checkout_url(payment_id),
            },
            "test": True,
            "refundable": False,
        }
        if body.get("description") is not None:
            payment["description"] = _text(body["description"], 128, "description")
        if body.get("metadata") is not None:
            payment["metadata"] = _metadata(body["metadata"])
        if body.get("receipt") is not None:
            payment["receipt_registration"] = "pending"
        self.payments[payment_id] = payment
        self._capture[payment_id] = capture
        self._return_urls[payment_id] = return_url
        return copy.deepcopy(payment)

    def _list_payments(self, request: Request, _raw: Any) -> JSON:
        """List payments, newest first, filtered by status and created_at.gte (cursor paging)."""
        query = request.query_params
        items = [self._lookup(pid) for pid in list(self.payments)]
        found = [copy.deepcopy(p) for p in items if p is not None]
        if "status" in query:
            found = [p for p in found if p["status"] == query["status"]]
        since = query.get("created_at.gte")
        if since:
            try:
                bound = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise _bad("Invalid date", "created_at.gte") from None
            found = [
                p
                for p in found
                if datetime.fromisoformat(p["created_at"].replace("Z", "+00:00")) >= bound
            ]
        found.reverse()
        try:
            limit = min(100, max(1, int(query.get("limit", "10"))))
            start = int(query.get("cursor", "0"))
        except ValueError:
            raise _bad("Invalid request parameter", "limit") from None
        page = found[start : start + limit]
        body: JSON = {"type": "list", "items": page}
        if start + limit < len(found):
            body["next_cursor"] = str(start + limit)
        return body

    def _get_payment(self, request: Request, _raw: Any) -> JSON:
        """``GET /payments/{id}``."""
        return copy.deepcopy(self._find(request.path_params["payment_id"]))

    def _capture_payment(self, request: Request, raw: Any) -> JSON:
        """``POST /payments/{id}/capture``: full or partial capture of an authorized payment."""
        payment = self._find(request.path_params["payment_id"])
        params = _obj(raw, None) if raw is not None else {}
        if payment["status"] != "waiting_for_capture":
            raise _bad("Payment can not be captured in current status")
        authorized = Decimal(payment["amount"]["value"])
        amount = authorized
        if params.get("amount") is not None:
            amount = _amount(params["amount"])
            if amount > authorized:
                raise _bad("Capture amount exceeds the authorized amount", "amount.value")
        if params.get("receipt") is not None:
            _check_receipt(params["receipt"], amount)
            payment["receipt_registration"] = "pending"
        self._succeed(payment, amount)
        return copy.deepcopy(payment)

    def _cancel_payment(self, request: Request, _raw: Any) -> JSON:
        """``POST /payments/{id}/cancel``: release an authorized payment."""
        payment = self._find(request.path_params["payment_id"])
        if payment["status"] != "waiting_for_capture":
            raise _bad("Payment can not be canceled in current status")
        self._cancel(payment, "merchant", "canceled_by_merchant")
        return copy.deepcopy(payment)

    def _create_refund(self, _request: Request, raw: Any) -> JSON:
        """``POST /refunds``: an immediately succeeded full or partial refund."""
        body = _obj(raw, None)
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or len(payment_id) != 36:
            raise _bad("Invalid payment_id", "payment_id")
        payment = self._lookup(payment_id)
        if payment is None:
            raise _bad("Payment not found or forbidden", "payment_id")
        amount = _amount(body.get("amount"))
        if payment["status"] != "succeeded":
            raise _bad("Payment can not be refunded in current status.", "payment_id")
        total = Decimal(payment["amount"]["value"])
        refunded = Decimal(payment.get("refunded_amount", {}).get("value", "0"))
        if refunded >= total:
            raise _bad("Payment is already completely refunded", "payment_id")
        if refunded + amount > total:
            raise _bad("Refund sum exceeded", "amount")
        refund: JSON = {
            "id": self._new_id("0015"),
            "payment_id": payment_id,
            "status": "succeeded",
            "amount": _money(amount),
            "created_at": _iso(datetime.now(UTC)),
        }
        if body.get("description") is not None:
            refund["description"] = _text(body["description"], 250, "description")
        if body.get("metadata") is not None:
            refund["metadata"] = _metadata(body["metadata"])
        if body.get("receipt") is not None:
            _check_receipt(body["receipt"], amount)
            refund["receipt_registration"] = "succeeded"
        self.refunds[refund["id"]] = refund
        payment["refunded_amount"] = _money(refunded + amount)
        payment["refundable"] = refunded + amount < total
        self._emit("refund.succeeded", refund)
        return copy.deepcopy(refund)

    def _get_refund(self, request: Request, _raw: Any) -> JSON:
        """``GET /refunds/{id}``."""
        refund = self.refunds.get(request.path_params["refund_id"])
        if refund is None:
            raise _ApiError(404, "not_found", "Refund not found or forbidden", "refund_id")
        return copy.deepcopy(refund)

    async def _unknown_route(self, request: Request) -> JSONResponse:
        """Any other API path: 405 for a known path with another method, else 404."""
        rest = "/" + request.path_params["rest"]
        if _KNOWN_PATHS.fullmatch(rest):
            error = _ApiError(405, "invalid_request", f"Method {request.method} is not allowed")
        else:
            error = _ApiError(404, "not_found", "Not found")
        return JSONResponse(error.body(), status_code=error.status)

    # ------------------------------------------------------------------ checkout page
    async def _checkout_page(self, request: Request) -> HTMLResponse:
        """``GET /sandbox/checkout/{id}``: the payer's page with Pay and Decline."""
        payment = self._lookup(request.path_params["payment_id"])
        if payment is None:
            return _not_found_page()
        return _html(self._checkout_body(payment))

    async def _checkout_pay(self, request: Request) -> Response:
        """``POST /sandbox/checkout/{id}/pay``."""
        return await self._press(request.path_params["payment_id"], self.pay)

    async def _checkout_decline(self, request: Request) -> Response:
        """``POST /sandbox/checkout/{id}/decline``."""
        return await self._press(request.path_params["payment_id"], self.decline)

    async def _press(self, payment_id: str, action: Callable[[str], Awaitable[JSON]]) -> Response:
        payment = self._lookup(payment_id)
        if payment is None:
            return _not_found_page()
        if payment["status"] != "pending":
            # A second press (or a stale tab) changes nothing: show the status.
            return RedirectResponse(self.checkout_url(payment_id), status_code=303)
        await action(payment_id)
        target = self._return_urls.get(payment_id) or self.checkout_url(payment_id)
        return RedirectResponse(target, status_code=303)

    def _checkout_body(self, payment: JSON) -> str:
        esc = html.escape
        pid = esc(payment["id"])
        parts = [
            "<h1>Test payment</h1>",
            f'<p class="desc">{esc(payment.get("description", "(no description)"))}</p>',
            f'<p class="amount">{esc(payment["amount"]["value"])} '
            f"{esc(payment['amount']['currency'])}</p>",
            f'<p class="meta">Payment {pid} in the sandbox shop. Nothing is charged.</p>',
        ]
        status: str = payment["status"]
        if status == "pending":
            parts += [
                f'<form method="post" action="/sandbox/checkout/{pid}/pay">'
                '<button type="submit" class="pay">Pay</button></form>',
                f'<form method="post" action="/sandbox/checkout/{pid}/decline">'
                '<button type="submit" class="decline">Decline</button></form>',
            ]
            return "".join(parts)
        text = _STATUS_TEXT.get(status, status)
        if status == "canceled":
            text += f" ({payment.get('cancellation_details', {}).get('reason', 'unknown')})"
        parts.append(f'<p class="status">Status: <b>{esc(status)}</b> — {esc(text)}</p>')
        return_url = self._return_urls.get(payment["id"], "")
        # Only http(s) links: a javascript: return URL must not become clickable here.
        if return_url.startswith(("https://", "http://")):
            parts.append(f'<p><a href="{esc(return_url)}">Back to the shop</a></p>')
        return "".join(parts)

    # ------------------------------------------------------------------ state transitions
    def _new_id(self, kind: str) -> str:
        seconds = int((datetime.now(UTC) - _ID_EPOCH).total_seconds()) & 0xFFFFFFFF
        while True:
            new_id = f"{seconds:08x}-{kind}-5000-8000-{secrets.token_hex(6)}"
            if new_id not in self.payments and new_id not in self.refunds:
                return new_id

    def _lookup(self, payment_id: str) -> JSON | None:
        payment = self.payments.get(payment_id)
        # YooKassa cancels an authorization nobody captured in time; do it on the next look.
        if (
            payment is not None
            and payment["status"] == "waiting_for_capture"
            and datetime.now(UTC) >= datetime.fromisoformat(payment["expires_at"])
        ):
            self._cancel(payment, "yoo_money", "expired_on_capture")
        return payment

    def _find(self, payment_id: str) -> JSON:
        payment = self._lookup(payment_id)
        if payment is None:
            raise _ApiError(404, "not_found", "Payment not found or forbidden", "payment_id")
        return payment

    def _authorize(self, payment: JSON) -> None:
        payment_id = payment["id"]
        payment["payment_method"] = {
            "type": "bank_card",
            "id": payment_id,
            "saved": False,
            "status": "inactive",
            "title": "Bank card *4444",
            "card": {
                "first6": "555555",
                "last4": "4444",
                "expiry_month": "12",
                "expiry_year": "2030",
                "card_type": "MasterCard",
            },
        }
        payment["paid"] = True
        payment.pop("confirmation", None)
        if self._capture.get(payment_id, False):
            self._succeed(payment, Decimal(payment["amount"]["value"]))
            return
        payment["status"] = "waiting_for_capture"
        payment["expires_at"] = _iso(datetime.now(UTC) + _CAPTURE_WINDOW)
        self._emit("payment.waiting_for_capture", payment)

    def _succeed(self, payment: JSON, amount: Decimal) -> None:
        payment.update(
            status="succeeded",
            paid=True,
            refundable=True,
            amount=_money(amount),
            income_amount=_money(amount - quantize(amount * _FEE)),
            captured_at=_iso(datetime.now(UTC)),
        )
        payment.pop("expires_at", None)
        if "receipt_registration" in payment:
            payment["receipt_registration"] = "succeeded"
        self._emit("payment.succeeded", payment)

    def _cancel(self, payment: JSON, party: str, reason: str) -> None:
        payment.update(
            status="canceled",
            paid=False,
            refundable=False,
            cancellation_details={"party": party, "reason": reason},
        )
        for key in ("expires_at", "confirmation", "income_amount"):
            payment.pop(key, None)
        if "receipt_registration" in payment:
            payment["receipt_registration"] = "canceled"
        self._emit("payment.canceled", payment)

    # ------------------------------------------------------------------ notifications
    def _emit(self, event: str, obj: JSON) -> None:
        if self.webhook_url is None:
            return
        # A snapshot: the notification describes the object as of this change.
        body = {"type": "notification", "event": event, "object": copy.deepcopy(obj)}
        task = asyncio.get_running_loop().create_task(self._deliver(self.webhook_url, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, body: JSON) -> None:
        delays = (0.0, *self.redelivery_delays)
        for attempt, delay in enumerate(delays, start=1):
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                status = await self._post(url, body)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = type(exc).__name__
            else:
                if status == 200:
                    return
                problem = f"HTTP {status}"
            # No URL in the log: it is ours, and could carry a secret in its query.
            log.warning(
                "SANDBOX: %s notification for %s not delivered (attempt %d of %d): %s%s",
                body["event"],
                body["object"]["id"],
                attempt,
                len(delays),
                problem,
                "" if attempt < len(delays) else "; giving up",
            )

    async def _post(self, url: str, body: JSON) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=_NOTIFY_TIMEOUT)
        async with self._session.post(url, json=body) as response:
            await response.read()
            return response.status


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex"><title>SANDBOX checkout</title><style>'
        "body{font-family:sans-serif;max-width:34rem;margin:1.5rem auto;padding:0 1rem}"
        ".banner{background:#b00020;color:#fff;font-size:1.6rem;font-weight:bold;"
        "text-align:center;padding:1rem;border-radius:.5rem}"
        ".amount{font-size:2rem;font-weight:bold}.meta{color:#555;font-size:.9rem}"
        "form{display:inline-block}button{font-size:1.2rem;padding:.6rem 2rem;margin:.3rem}"
        '</style></head><body><div class="banner">SANDBOX — no real money</div>'
        f"{body}</body></html>"
    )
    headers = {
        "Cache-Control": "no-store",
        # Defence in depth on top of escaping: no scripts, no external resources.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    return HTMLResponse(page, status_code=status_code, headers=headers)


def _not_found_page() -> HTMLResponse:
    return _html(
        "<h1>Payment not found</h1><p>No such sandbox payment. The sandbox keeps payments in "
        "memory, so a restart of the service forgets them.</p>",
        status_code=404,
    )


def setup(app: FastAPI, sandbox: SandboxYooKassa) -> None:
    """Add the sandbox API and checkout routes (hidden from the OpenAPI document)."""
    api = sandbox.api_path
    routes: list[tuple[str, _Handler, str, bool]] = [
        ("/payments", sandbox._create_payment, "POST", True),
        ("/payments", sandbox._list_payments, "GET", False),
        ("/payments/{payment_id}", sandbox._get_payment, "GET", False),
        ("/payments/{payment_id}/capture", sandbox._capture_payment, "POST", True),
        ("/payments/{payment_id}/cancel", sandbox._cancel_payment, "POST", True),
        ("/refunds", sandbox._create_refund, "POST", True),
        ("/refunds/{refund_id}", sandbox._get_refund, "GET", False),
    ]
    for path, handler, method, idempotent in routes:
        app.add_api_route(
            api + path,
            sandbox._api_endpoint(handler, idempotent=idempotent),
            methods=[method],
            include_in_schema=False,
        )
    # Added last so that it only takes what no route above matched.
    app.add_api_route(
        api + "/{rest:path}",
        sandbox._unknown_route,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    checkout = "/sandbox/checkout/{payment_id}"
    pages: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        (checkout, sandbox._checkout_page, "GET"),
        (checkout + "/pay", sandbox._checkout_pay, "POST"),
        (checkout + "/decline", sandbox._checkout_decline, "POST"),
    ]
    for path, endpoint, method in pages:
        app.add_api_route(path, endpoint, methods=[method], include_in_schema=False)
    log.info("SANDBOX: embedded YooKassa API at %s; no real money moves", sandbox.api_url())
