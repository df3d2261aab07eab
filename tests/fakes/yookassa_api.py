"""Faithful local fake of the YooKassa API v3 (aiohttp server) for tests.

The server runs on the test's event loop; the official (synchronous) ``yookassa`` SDK talks to it
through the gateway, which runs it in a greenlet with its HTTP on the same loop. Never call the
SDK plainly from the loop thread: the fake could not answer and the call would hang.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import operator
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import TracebackType
from typing import Any, NamedTuple, Self

import aiohttp
from aiohttp import web

# YooKassa's cancellation reasons (OAS enum, yookassa.md §1): one table with the sandbox's.
from payments.yookassa.sandbox.methods import CANCELLATION_REASONS

JSON = dict[str, Any]
Handler = Callable[[tuple[str, ...], Any, Mapping[str, str]], JSON]

ID_EPOCH = datetime(2000, 1, 1, 12, 0, 0, tzinfo=UTC)
_CENT = Decimal("0.01")
_ERROR_CODES: dict[int, str] = {
    400: "invalid_request",
    401: "invalid_credentials",
    403: "forbidden",
    404: "not_found",
    405: "invalid_request",
    410: "gone",
    429: "too_many_requests",
    500: "internal_server_error",
}
_DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid request parameter",
    401: "Basic authentication failed",
    403: "Forbidden",
    404: "Not found",
    429: "Too many requests",
    500: "Internal server error",
}
_DATE_FILTERS: dict[str, Callable[[datetime, datetime], bool]] = {
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
}


class RecordedRequest(NamedTuple):
    """One request received by the fake API."""

    method: str
    path: str
    idempotence_key: str | None
    body: Any
    peer: Any = None  # the client's (host, port): one per TCP connection


class NotificationRecord(NamedTuple):
    """One notification delivery attempt (http_status None = no HTTP answer)."""

    event: str
    object_id: str
    http_status: int | None


class FakeStateError(RuntimeError):
    """A test control was used on an object in the wrong state."""


class _ApiError(Exception):
    """An API error answer (rendered as the YooKassa error envelope)."""

    def __init__(
        self,
        status: int,
        description: str | None = None,
        parameter: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code = code or _ERROR_CODES.get(status, "internal_server_error")
        self.description = description or _DEFAULT_DESCRIPTIONS.get(status, "Error")
        self.parameter = parameter

    def body(self) -> JSON:
        """Return the JSON error envelope."""
        if self.status == 202:
            return {"type": "processing", "description": self.description, "retry_after": 1800}
        out: JSON = {
            "type": "error",
            "id": str(uuid.uuid4()),
            "code": self.code,
            "description": self.description,
        }
        if self.parameter:
            out["parameter"] = self.parameter
        return out


def _bad(description: str, parameter: str | None = None) -> _ApiError:
    return _ApiError(400, description, parameter)


@dataclass
class _FailRule:
    remaining: int
    status: int
    path_contains: str | None
    method: str | None
    after_processing: bool


@dataclass
class _MethodFailure:
    party: str
    reason: str
    remaining: int | None  # None: every charge until cleared


@dataclass
class Hold:
    """Answers held back until a test releases them: `arrived` is set when one is held."""

    method: str
    path: str
    query: dict[str, str]
    remaining: int
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Stored:
    fingerprint: tuple[str, str, Any]
    status: int
    body: JSON
    stored_at: datetime


@dataclass
class _PaymentState:
    capture: bool
    save_method: bool
    receipt: JSON | None


def iso(dt: datetime) -> str:
    """Format a datetime the way YooKassa does: UTC, milliseconds, ``Z``."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{dt.microsecond // 1000:03d}Z"


def money(value: Decimal, currency: str = "RUB") -> JSON:
    """Return a MonetaryAmount object with a two-decimal string value."""
    return {"value": f"{value.quantize(_CENT, ROUND_HALF_UP):f}", "currency": currency}


def _to_decimal(raw: Any, parameter: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise _bad("Invalid request parameter", parameter)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise _bad("Invalid request parameter", parameter) from None
    if not value.is_finite():
        raise _bad("Invalid request parameter", parameter)
    return value


def _as_obj(raw: Any, parameter: str | None) -> JSON:
    if not isinstance(raw, dict):
        raise _bad("Invalid request parameter", parameter)
    return raw


class FakeYooKassa:
    """Local YooKassa API v3 with test controls, failure switches and notifications."""

    def __init__(
        self,
        shop_id: str = "123456",
        secret_key: str = "test_secret",  # noqa: S107
        *,
        gateway_id: str = "1234567",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.shop_id = shop_id
        self.secret_key = secret_key
        self.gateway_id = gateway_id
        self.host = host
        self.port = port
        self.payments: dict[str, JSON] = {}
        self.refunds: dict[str, JSON] = {}
        # The receipt each refund was created with (YooKassa keeps it; the refund object does
        # not show it), for tests to read back.
        self.refund_receipts: dict[str, JSON] = {}
        # Methods saved by a payment that asked to (save_payment_method), by method id.
        self.saved_methods: dict[str, JSON] = {}
        # Methods whose payer revoked the autopayment permission.
        self.revoked_methods: set[str] = set()
        self._method_failures: dict[str, _MethodFailure] = {}
        self.requests: list[RecordedRequest] = []
        # Requests being answered right now, and the most there ever were at once.
        self.in_flight = 0
        self.max_in_flight = 0
        self.notifications: list[NotificationRecord] = []
        self.dropped_notifications: list[tuple[str, str]] = []
        self.create_count = 0
        self.notification_url: str | None = None
        self.notification_source_ip = "127.0.0.1"
        self.notification_timeout = 5.0
        self.redelivery_delays: list[float] = [0.2, 0.5, 1.0]
        self.require_receipt = False
        self.refunds_pending = False
        self.currencies: set[str] = {"RUB"}
        self.fee_percent = Decimal("3.5")
        self.capture_window = timedelta(days=7)
        self.idempotence_ttl = timedelta(hours=24)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._states: dict[str, _PaymentState] = {}
        self._idempotence: dict[str, _Stored] = {}
        self._fail_rules: list[_FailRule] = []
        self._slow_seconds = 0.0
        self._slow_remaining: int | None = None
        self._lose = 0
        self._holds: list[Hold] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = asyncio.Event()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/v3/payments"), self._create_payment),
            ("GET", re.compile(r"/v3/payments"), self._list_payments),
            ("GET", re.compile(r"/v3/payments/([^/]+)"), self._get_payment),
            ("POST", re.compile(r"/v3/payments/([^/]+)/capture"), self._capture),
            ("POST", re.compile(r"/v3/payments/([^/]+)/cancel"), self._cancel),
            ("POST", re.compile(r"/v3/refunds"), self._create_refund),
            ("GET", re.compile(r"/v3/refunds"), self._list_refunds),
            ("GET", re.compile(r"/v3/refunds/([^/]+)"), self._get_refund),
        ]

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start the HTTP server and the notification client."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._closing = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Stop deliveries, close the client session and the server."""
        self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """Root URL of the fake server, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Value for ``Configuration.configure(..., api_url=...)``."""
        return f"{self.base_url}/v3"

    @property
    def checkout_base(self) -> str:
        """Base of generated ``confirmation_url`` values (the fake itself)."""
        return self.base_url

    # ------------------------------------------------------------------ switches
    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        path_contains: str | None = None,
        method: str | None = None,
        *,
        after_processing: bool = False,
    ) -> None:
        """Answer the next n matching requests with an error envelope of ``status``.

        By default the operation does not happen. ``after_processing=True`` performs it (and
        stores the idempotent result) but still answers with the error: "result unknown".
        """
        self._fail_rules.append(
            _FailRule(
                n, status, path_contains, method.upper() if method else None, after_processing
            )
        )

    def slow(self, seconds: float, n: int | None = None) -> None:
        """Delay the next n responses (None = all until ``slow(0)``); work happens at once."""
        self._slow_seconds = seconds
        self._slow_remaining = n

    def hold(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None, n: int = 1
    ) -> Hold:
        """Hold the answers to the next n matching requests (already processed, so the answer is
        what YooKassa saw on arrival) until ``release`` is set; ``arrived`` tells one is held."""
        held = Hold(method.upper(), path, dict(query or {}), n)
        self._holds.append(held)
        return held

    async def _maybe_hold(self, request: web.Request) -> None:
        for held in self._holds:
            if held.method != request.method or held.path != request.path:
                continue
            if any(request.query.get(k) != v for k, v in held.query.items()):
                continue
            held.remaining -= 1
            if held.remaining <= 0:
                self._holds.remove(held)
            held.arrived.set()
            waits = [
                asyncio.ensure_future(held.release.wait()),
                asyncio.ensure_future(self._closing.wait()),
            ]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
            return

    def fail_method(
        self,
        method_id: str,
        reason: str = "insufficient_funds",
        *,
        n: int | None = 1,
        party: str = "payment_network",
    ) -> None:
        """Cancel the next n charges of a saved method with ``reason`` by ``party``.

        ``n=None``: every charge until ``clear_method``. The method stays saved; the charge is
        created and answered ``canceled`` at once, as YooKassa answers a declined autopayment.
        """
        if reason not in CANCELLATION_REASONS:
            raise FakeStateError(f"YooKassa has no cancellation reason {reason!r}")
        if method_id not in self.saved_methods:
            raise FakeStateError(f"method {method_id} was never saved")
        self._method_failures[method_id] = _MethodFailure(party, reason, n)

    def revoke_method(self, method_id: str) -> None:
        """The payer revoked the autopayment permission: every later charge of the method is
        canceled by yoo_money with ``permission_revoked`` (``clear_method`` restores it)."""
        if method_id not in self.saved_methods:
            raise FakeStateError(f"method {method_id} was never saved")
        self.revoked_methods.add(method_id)

    def clear_method(self, method_id: str) -> None:
        """Charges of the method succeed again (failure switches and revocation removed)."""
        self._method_failures.pop(method_id, None)
        self.revoked_methods.discard(method_id)

    def _method_outcome(self, method_id: str) -> tuple[str, str] | None:
        """Return (party, reason) if this charge of a saved method fails, else None."""
        if method_id in self.revoked_methods:
            return "yoo_money", "permission_revoked"
        failure = self._method_failures.get(method_id)
        if failure is None:
            return None
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                del self._method_failures[method_id]
        return failure.party, failure.reason

    def lose_notifications(self, n: int = 1) -> None:
        """Silently drop the next n notifications (no delivery attempt at all)."""
        self._lose += n

    # ------------------------------------------------------------------ HTTP plumbing
    async def _handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body: Any = None
        parse_failed = False
        if raw:
            try:
                body = json.loads(raw, parse_float=Decimal)
            except ValueError:
                parse_failed = True
        key = request.headers.get("Idempotence-Key")
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(RecordedRequest(request.method, request.path, key, body, peer))
        try:
            status, payload = self._process(request, key, body, parse_failed=parse_failed)
        except _ApiError as exc:
            status, payload = exc.status, exc.body()
        await self._maybe_hold(request)
        await self._maybe_slow()
        return web.json_response(payload, status=status)

    async def _maybe_slow(self) -> None:
        if self._slow_seconds <= 0:
            return
        if self._slow_remaining is not None:
            if self._slow_remaining <= 0:
                return
            self._slow_remaining -= 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self._slow_seconds)

    def _process(
        self, request: web.Request, key: str | None, body: Any, *, parse_failed: bool
    ) -> tuple[int, JSON]:
        self._check_auth(request.headers.get("Authorization"))
        handler, args = self._route(request.method, request.path)
        if request.method == "POST":
            if not key:
                raise _bad("Idempotence key is empty", "Idempotence-Key")
            if len(key) > 64:
                raise _bad("Idempotence key is too long. Max. length is 64", "Idempotence-Key")
            if parse_failed:
                raise _bad("Failed to parse request body")
        rule = self._take_fail_rule(request.method, request.path)
        if rule is not None and not rule.after_processing:
            raise _ApiError(rule.status)
        if request.method != "POST" or key is None:
            return 200, handler(args, body, request.query)
        now = self.clock()
        fingerprint = (request.method, request.path, body)
        stored = self._idempotence.get(key)
        if stored is not None and now - stored.stored_at > self.idempotence_ttl:
            del self._idempotence[key]
            stored = None
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise _bad("Idempotence key duplicated", "Idempotence-Key")
            return stored.status, copy.deepcopy(stored.body)
        try:
            status, result = 200, handler(args, body, request.query)
        except _ApiError as exc:
            status, result = exc.status, exc.body()
        if status < 500 and status != 429:
            self._idempotence[key] = _Stored(fingerprint, status, copy.deepcopy(result), now)
        if rule is not None:
            raise _ApiError(rule.status)
        return status, result

    def _check_auth(self, header: str | None) -> None:
        if not header:
            raise _ApiError(401, "Authorization header not found")
        scheme, _, token = header.partition(" ")
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode()
        except ValueError:
            raise _ApiError(401, "Basic authentication failed") from None
        expected = f"{self.shop_id}:{self.secret_key}"
        if scheme.lower() != "basic" or not secrets.compare_digest(decoded, expected):
            raise _ApiError(401, "Basic authentication failed")

    def _route(self, method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
        path_matched = False
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method == method:
                return handler, match.groups()
            path_matched = True
        if path_matched:
            raise _ApiError(405, f"Method {method} is not allowed")
        raise _ApiError(404, "Not found")

    def _take_fail_rule(self, method: str, path: str) -> _FailRule | None:
        for rule in self._fail_rules:
            if rule.method is not None and rule.method != method:
                continue
            if rule.path_contains is not None and rule.path_contains not in path:
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._fail_rules.remove(rule)
            return rule
        return None

    # ------------------------------------------------------------------ validation helpers
    def _amount(self, raw: Any, parameter: str = "amount") -> tuple[Decimal, str]:
        if raw is None:
            raise _bad("Amount is required", parameter)
        obj = _as_obj(raw, parameter)
        value = _to_decimal(obj.get("value"), f"{parameter}.value")
        if value <= 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
            raise _bad("Invalid amount value", f"{parameter}.value")
        currency = obj.get("currency")
        if currency not in self.currencies:
            raise _bad("Invalid currency", f"{parameter}.currency")
        return value, str(currency)

    @staticmethod
    def _metadata(raw: Any) -> JSON:
        meta = _as_obj(raw, "metadata")
        if len(meta) > 16:
            raise _bad("Metadata object is limited to 16 keys", "metadata")
        for key, value in meta.items():
            if len(key) > 32:
                raise _bad("Metadata key is too long. Max. length is 32", "metadata")
            if not isinstance(value, str):
                raise _bad("Metadata values must be strings", "metadata")
            if len(value) > 512:
                raise _bad("Metadata value is too long. Max. length is 512", "metadata")
        return dict(meta)

    @staticmethod
    def _description(raw: Any, limit: int) -> str:
        if not isinstance(raw, str):
            raise _bad("Invalid request parameter", "description")
        if len(raw) > limit:
            raise _bad(f"Description is too long. Max. length is {limit}", "description")
        return raw

    def _receipt(self, raw: Any, total: Decimal, currency: str) -> JSON:
        receipt = _as_obj(raw, "receipt")
        customer = receipt.get("customer") or {}
        if not isinstance(customer, dict):
            raise _bad("Invalid request parameter", "receipt.customer")
        if not (
            customer.get("email")
            or customer.get("phone")
            or receipt.get("email")
            or receipt.get("phone")
        ):
            raise _bad("Receipt customer must contain email or phone", "receipt.customer")
        items = receipt.get("items")
        if not isinstance(items, list) or not items or len(items) > 100:
            raise _bad("Receipt items must be a non-empty list (max. 100)", "receipt.items")
        receipt_sum = Decimal(0)
        for index, raw_item in enumerate(items):
            param = f"receipt.items[{index}]"
            item = _as_obj(raw_item, param)
            text = item.get("description")
            if not isinstance(text, str) or not 1 <= len(text) <= 128:
                raise _bad("Invalid receipt item description", f"{param}.description")
            quantity = _to_decimal(item.get("quantity"), f"{param}.quantity")
            if quantity <= 0:
                raise _bad("Invalid receipt item quantity", f"{param}.quantity")
            price, item_currency = self._amount(item.get("amount"), f"{param}.amount")
            if item_currency != currency:
                raise _bad("Currencies do not match", f"{param}.amount.currency")
            vat = item.get("vat_code")
            if isinstance(vat, bool) or not isinstance(vat, int) or not 1 <= vat <= 12:
                raise _bad("Invalid vat_code", f"{param}.vat_code")
            receipt_sum += (price * quantity).quantize(_CENT, ROUND_HALF_UP)
        if receipt_sum != total:
            raise _bad(
                f"Sum of receipt items ({receipt_sum:f}) does not match the amount "
                f"({total.quantize(_CENT):f})",
                "receipt",
            )
        return receipt

    def _new_id(self, kind: str) -> str:
        seconds = int((self.clock() - ID_EPOCH).total_seconds()) & 0xFFFFFFFF
        while True:
            new_id = f"{seconds:08x}-{kind}-5000-8000-{secrets.token_hex(6)}"
            if new_id not in self.payments and new_id not in self.refunds:
                return new_id

    def _find_payment(self, payment_id: str) -> JSON:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise _ApiError(404, "Payment not found or forbidden", "payment_id")
        expires_at = payment.get("expires_at")
        if expires_at is not None and self.clock() >= datetime.fromisoformat(expires_at):
            self._cancel_payment(payment, "yoo_money", "expired_on_capture")
        return payment

    # ------------------------------------------------------------------ payments
    def _create_payment(self, _: tuple[str, ...], raw: Any, __: Mapping[str, str]) -> JSON:
        body = _as_obj(raw, None)
        value, currency = self._amount(body.get("amount"))
        capture = body.get("capture", False)
        save_method = body.get("save_payment_method", False)
        if not isinstance(capture, bool):
            raise _bad("Invalid request parameter", "capture")
        if not isinstance(save_method, bool):
            raise _bad("Invalid request parameter", "save_payment_method")
        saved = self._saved_method(body)
        customer_id = body.get("merchant_customer_id")
        if customer_id is not None and (not isinstance(customer_id, str) or len(customer_id) > 200):
            raise _bad("Invalid merchant_customer_id", "merchant_customer_id")
        payment_id = self._new_id("000f")
        payment: JSON = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": money(value, currency),
            "recipient": {"account_id": self.shop_id, "gateway_id": self.gateway_id},
            "created_at": iso(self.clock()),
            "test": True,
            "refundable": False,
        }
        if body.get("description") is not None:
            payment["description"] = self._description(body["description"], 128)
        if body.get("metadata") is not None:
            payment["metadata"] = self._metadata(body["metadata"])
        if body.get("confirmation") is not None:
            payment["confirmation"] = self._confirmation(body["confirmation"], payment_id)
        receipt: JSON | None = None
        if body.get("receipt") is not None:
            receipt = self._receipt(body["receipt"], value, currency)
            payment["receipt_registration"] = "pending"
        elif self.require_receipt:
            raise _bad("Receipt is missing or illegal", "receipt")
        if customer_id is not None:
            payment["merchant_customer_id"] = customer_id
        method_data = body.get("payment_method_data")
        if method_data is not None:
            method_type = _as_obj(method_data, "payment_method_data").get("type")
            if not isinstance(method_type, str):
                raise _bad("Invalid request parameter", "payment_method_data.type")
            payment["payment_method"] = {
                "type": method_type,
                "id": payment_id,
                "saved": False,
                "status": "inactive",
            }
        self.payments[payment_id] = payment
        self._states[payment_id] = _PaymentState(capture, save_method, receipt)
        self.create_count += 1
        if saved is not None:
            # A charge of a saved method: nobody confirms, the answer is final at once.
            payment["payment_method"] = copy.deepcopy(saved)
            outcome = self._method_outcome(saved["id"])
            if outcome is not None:
                if outcome[1] == "permission_revoked":
                    payment["payment_method"].update(saved=False, status="inactive")
                self._cancel_payment(payment, *outcome)
            else:
                self._authorize(payment, str(saved["type"]))
        return copy.deepcopy(payment)

    def _saved_method(self, body: JSON) -> JSON | None:
        sources = [
            k
            for k in ("payment_method_data", "payment_method_id", "payment_token")
            if body.get(k) is not None
        ]
        if len(sources) > 1:
            raise _bad(
                "Request should contain only one of: payment_method_data, "
                "payment_method_id, payment_token",
                sources[1],
            )
        method_id = body.get("payment_method_id")
        if method_id is None:
            return None
        if body.get("confirmation") is not None:
            raise _bad("Confirmation must be null when using payment_method_id", "confirmation")
        saved = self.saved_methods.get(method_id) if isinstance(method_id, str) else None
        if saved is None:
            raise _bad("Payment method is not saved", "payment_method_id")
        return saved

    def _confirmation(self, raw: Any, payment_id: str) -> JSON:
        conf = _as_obj(raw, "confirmation")
        kind = conf.get("type")
        url = f"{self.checkout_base}/checkout/payments/v2/contract?orderId={payment_id}"
        if kind == "redirect":
            return_url = conf.get("return_url")
            if not isinstance(return_url, str) or not return_url or len(return_url) > 2048:
                raise _bad("Invalid return_url", "confirmation.return_url")
            out: JSON = {"type": "redirect", "return_url": return_url, "confirmation_url": url}
            if isinstance(conf.get("enforce"), bool):
                out["enforce"] = conf["enforce"]
            return out
        if kind == "embedded":
            return {"type": "embedded", "confirmation_token": f"ct-{payment_id}"}
        if kind == "external":
            return {"type": "external"}
        if kind == "qr":
            return {"type": "qr", "confirmation_data": f"{url}&type=qr"}
        if kind == "mobile_application":
            return {"type": "mobile_application", "confirmation_url": url}
        raise _bad("Invalid confirmation type", "confirmation.type")

    def _get_payment(self, ids: tuple[str, ...], _: Any, __: Mapping[str, str]) -> JSON:
        return copy.deepcopy(self._find_payment(ids[0]))

    def _capture(self, ids: tuple[str, ...], raw: Any, _: Mapping[str, str]) -> JSON:
        payment = self._find_payment(ids[0])
        params = _as_obj(raw if raw is not None else {}, None)
        if payment["status"] != "waiting_for_capture":
            raise _bad("Payment can not be captured in current status")
        total = Decimal(payment["amount"]["value"])
        currency = str(payment["amount"]["currency"])
        amount = total
        if params.get("amount") is not None:
            amount, new_currency = self._amount(params["amount"])
            if new_currency != currency:
                raise _bad("Currencies do not match", "amount.currency")
            if amount > total:
                raise _bad("Capture amount exceeds the payment amount", "amount")
        state = self._states[payment["id"]]
        if params.get("receipt") is not None:
            state.receipt = self._receipt(params["receipt"], amount, currency)
        elif (state.receipt is not None and amount != total) or (
            state.receipt is None and self.require_receipt
        ):
            raise _bad("Receipt is missing or illegal", "receipt")
        if state.receipt is not None:
            payment["receipt_registration"] = "pending"
        self._succeed(payment, amount)
        return copy.deepcopy(payment)

    def _cancel(self, ids: tuple[str, ...], _: Any, __: Mapping[str, str]) -> JSON:
        payment = self._find_payment(ids[0])
        if payment["status"] != "waiting_for_capture":
            raise _bad("Payment can not be canceled in current status")
        self._cancel_payment(payment, "merchant", "canceled_by_merchant")
        return copy.deepcopy(payment)

    def _list_payments(self, _: tuple[str, ...], __: Any, query: Mapping[str, str]) -> JSON:
        items = list(self.payments.values())
        if "payment_method" in query:
            items = [
                p
                for p in items
                if p.get("payment_method", {}).get("type") == query["payment_method"]
            ]
        return self._paginate(items, query)

    def _paginate(self, items: list[JSON], query: Mapping[str, str]) -> JSON:
        if "status" in query:
            items = [item for item in items if item["status"] == query["status"]]
        for name, compare in _DATE_FILTERS.items():
            bound = query.get(f"created_at.{name}")
            if bound is None:
                continue
            try:
                limit_dt = datetime.fromisoformat(bound)
            except ValueError:
                raise _bad("Invalid date", f"created_at.{name}") from None
            items = [i for i in items if compare(datetime.fromisoformat(i["created_at"]), limit_dt)]
        items.reverse()
        try:
            limit = int(query.get("limit", "10"))
        except ValueError:
            raise _bad("Invalid limit", "limit") from None
        if not 1 <= limit <= 100:
            raise _bad("Invalid limit", "limit")
        offset = 0
        if "cursor" in query:
            try:
                offset = int(base64.urlsafe_b64decode(query["cursor"].encode()).decode())
            except ValueError:
                offset = -1
            if offset < 0:
                raise _bad("Invalid cursor", "cursor")
        out: JSON = {"type": "list", "items": copy.deepcopy(items[offset : offset + limit])}
        if offset + limit < len(items):
            out["next_cursor"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        return out

    # ------------------------------------------------------------------ refunds
    def _create_refund(self, _: tuple[str, ...], raw: Any, __: Mapping[str, str]) -> JSON:
        body = _as_obj(raw, None)
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or len(payment_id) != 36:
            raise _bad("Invalid payment_id", "payment_id")
        payment = self.payments.get(payment_id)
        if payment is None:
            raise _bad("Payment not found or forbidden", "payment_id")
        amount, currency = self._amount(body.get("amount"))
        refund_id = self._new_id("0015")
        refund: JSON = {
            "id": refund_id,
            "payment_id": payment_id,
            "status": "pending",
            "amount": money(amount, currency),
            "created_at": iso(self.clock()),
        }
        if body.get("description") is not None:
            refund["description"] = self._description(body["description"], 250)
        if body.get("metadata") is not None:
            refund["metadata"] = self._metadata(body["metadata"])
        if payment["status"] != "succeeded":
            raise _bad("Payment can not be refunded in current status.", "payment_id")
        if currency != payment["amount"]["currency"]:
            raise _bad("Currencies do not match", "amount.currency")
        total = Decimal(payment["amount"]["value"])
        used = sum(
            (
                Decimal(r["amount"]["value"])
                for r in self.refunds.values()
                if r["payment_id"] == payment_id and r["status"] != "canceled"
            ),
            Decimal(0),
        )
        if used >= total:
            raise _bad("Payment is already completely refunded", "payment_id")
        if used + amount > total:
            raise _bad("Refund sum exceeded", "amount")
        receipt: JSON | None = None
        if body.get("receipt") is not None:
            receipt = self._receipt(body["receipt"], amount, currency)
            refund["receipt_registration"] = "pending"
        elif self.require_receipt or getattr(self._states.get(payment_id), "receipt", None):
            # A shop that sends receipts must send one with every refund too (54-FZ).
            raise _bad("Receipt is missing or illegal", "receipt")
        self.refunds[refund_id] = refund
        if receipt is not None:
            self.refund_receipts[refund_id] = copy.deepcopy(receipt)
        if not self.refunds_pending:
            self._refund_succeeded(refund)
        return copy.deepcopy(refund)

    def _refund_succeeded(self, refund: JSON) -> None:
        payment = self.payments[refund["payment_id"]]
        refund["status"] = "succeeded"
        if "receipt_registration" in refund:
            refund["receipt_registration"] = "succeeded"
        before = Decimal(payment.get("refunded_amount", {}).get("value", "0"))
        refunded = before + Decimal(refund["amount"]["value"])
        payment["refunded_amount"] = money(refunded, payment["amount"]["currency"])
        if refunded >= Decimal(payment["amount"]["value"]):
            payment["refundable"] = False
        self._emit("refund.succeeded", refund)

    def _get_refund(self, ids: tuple[str, ...], _: Any, __: Mapping[str, str]) -> JSON:
        refund = self.refunds.get(ids[0])
        if refund is None:
            raise _ApiError(404, "Refund not found or forbidden", "refund_id")
        return copy.deepcopy(refund)

    def _list_refunds(self, _: tuple[str, ...], __: Any, query: Mapping[str, str]) -> JSON:
        items = list(self.refunds.values())
        if "payment_id" in query:
            items = [r for r in items if r["payment_id"] == query["payment_id"]]
        return self._paginate(items, query)

    # ------------------------------------------------------------------ state transitions
    def _payment_method(self, payment: JSON, method: str) -> JSON:
        existing = payment.get("payment_method")
        if existing is not None and existing.get("type") == method and existing.get("title"):
            return copy.deepcopy(existing)  # a saved method used for a recurring charge
        out: JSON = {"type": method, "id": payment["id"], "saved": False, "status": "inactive"}
        if method == "bank_card":
            out["title"] = "Bank card *4444"
            out["card"] = {
                "first6": "555555",
                "last4": "4444",
                "expiry_year": str(self.clock().year + 3),
                "expiry_month": "12",
                "card_type": "MasterCard",
                "issuer_country": "RU",
                "issuer_name": "Sberbank",
            }
        elif method == "yoo_money":
            out["title"] = "YooMoney wallet 410011758831136"
            out["account_number"] = "410011758831136"
        else:
            out["title"] = method
        return out

    def _authorize(self, payment: JSON, method: str) -> None:
        state = self._states[payment["id"]]
        pm = self._payment_method(payment, method)
        if state.save_method:
            pm["saved"] = True
            pm["status"] = "active"
            self.saved_methods[pm["id"]] = copy.deepcopy(pm)
        payment["payment_method"] = pm
        if method == "bank_card":
            payment["authorization_details"] = {
                "rrn": f"{secrets.randbelow(10**12):012d}",
                "auth_code": f"{secrets.randbelow(10**6):06d}",
                "three_d_secure": {"applied": False},
            }
        payment["paid"] = True
        payment.pop("confirmation", None)
        amount = Decimal(payment["amount"]["value"])
        if state.capture:
            self._succeed(payment, amount)
            return
        payment["status"] = "waiting_for_capture"
        payment["income_amount"] = self._income(amount, payment["amount"]["currency"])
        payment["expires_at"] = iso(self.clock() + self.capture_window)
        self._emit("payment.waiting_for_capture", payment)

    def _income(self, amount: Decimal, currency: str) -> JSON:
        fee = (amount * self.fee_percent / 100).quantize(_CENT, ROUND_HALF_UP)
        return money(amount - fee, currency)

    def _succeed(self, payment: JSON, amount: Decimal) -> None:
        currency = payment["amount"]["currency"]
        payment.update(
            status="succeeded",
            paid=True,
            refundable=True,
            amount=money(amount, currency),
            income_amount=self._income(amount, currency),
            captured_at=iso(self.clock()),
        )
        payment.pop("expires_at", None)
        if "receipt_registration" in payment:
            payment["receipt_registration"] = "succeeded"
        self._emit("payment.succeeded", payment)

    def _cancel_payment(self, payment: JSON, party: str, reason: str) -> None:
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

    # ------------------------------------------------------------------ test controls
    def _require(self, payment_id: str, *statuses: str) -> JSON:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise FakeStateError(f"unknown payment {payment_id}")
        if payment["status"] not in statuses:
            raise FakeStateError(f"payment {payment_id} is {payment['status']}")
        return payment

    async def pay(self, payment_id: str, *, method: str | None = None) -> JSON:
        """Pay a pending payment as the payer would (default bank_card); notify; return it."""
        payment = self._require(payment_id, "pending")
        chosen = method or payment.get("payment_method", {}).get("type") or "bank_card"
        self._authorize(payment, chosen)
        return copy.deepcopy(payment)

    async def decline(
        self, payment_id: str, reason: str = "insufficient_funds", *, party: str = "payment_network"
    ) -> JSON:
        """Decline a pending payment (canceled by ``party`` with ``reason``); notify."""
        payment = self._require(payment_id, "pending")
        self._cancel_payment(payment, party, reason)
        return copy.deepcopy(payment)

    async def expire(self, payment_id: str) -> JSON:
        """Let a pending or waiting_for_capture payment expire (canceled by yoo_money)."""
        payment = self._require(payment_id, "pending", "waiting_for_capture")
        reason = (
            "expired_on_confirmation" if payment["status"] == "pending" else "expired_on_capture"
        )
        self._cancel_payment(payment, "yoo_money", reason)
        return copy.deepcopy(payment)

    async def complete_refund(
        self, refund_id: str, *, succeed: bool = True, reason: str = "general_decline"
    ) -> JSON:
        """Finish a pending refund (made with ``refunds_pending = True``)."""
        refund = self.refunds.get(refund_id)
        if refund is None or refund["status"] != "pending":
            raise FakeStateError(f"refund {refund_id} is not pending")
        if succeed:
            self._refund_succeeded(refund)
        else:
            refund["status"] = "canceled"
            refund["cancellation_details"] = {"party": "refund_network", "reason": reason}
        return copy.deepcopy(refund)

    # ------------------------------------------------------------------ notifications
    def _emit(self, event: str, obj: JSON) -> None:
        if self._lose > 0:
            self._lose -= 1
            self.dropped_notifications.append((event, str(obj["id"])))
            return
        url = self.notification_url
        if url is None or self._session is None:
            return
        body = {"type": "notification", "event": event, "object": copy.deepcopy(obj)}
        task = asyncio.get_running_loop().create_task(
            self._deliver(url, event, body, list(self.redelivery_delays))
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, url: str, body: JSON) -> int:
        if self._session is None:
            raise FakeStateError("fake is not started")
        timeout = aiohttp.ClientTimeout(total=self.notification_timeout)
        async with self._session.post(url, json=body, timeout=timeout) as response:
            await response.read()
            return response.status

    async def _deliver(self, url: str, event: str, body: JSON, delays: list[float]) -> None:
        object_id = str(body["object"]["id"])
        for delay in [0.0, *delays]:
            if delay > 0:
                await asyncio.sleep(delay)
            status: int | None
            try:
                status = await self._post(url, body)
            except (aiohttp.ClientError, TimeoutError):
                status = None
            self.notifications.append(NotificationRecord(event, object_id, status))
            if status == 200:
                return

    async def send_notification(
        self, event: str, obj_or_id: JSON | str, url: str | None = None
    ) -> int:
        """POST one notification (any body, no redelivery) and return the HTTP status."""
        target = url or self.notification_url
        if target is None:
            raise FakeStateError("no notification_url")
        if isinstance(obj_or_id, str):
            found = self.payments.get(obj_or_id) or self.refunds.get(obj_or_id)
            if found is None:
                raise FakeStateError(f"unknown object {obj_or_id}")
            obj_or_id = found
        body = {"type": "notification", "event": event, "object": copy.deepcopy(obj_or_id)}
        status = await self._post(target, body)
        self.notifications.append(NotificationRecord(event, str(obj_or_id.get("id")), status))
        return status

    async def wait_notifications(self, seconds: float = 10.0) -> None:
        """Wait (at most ``seconds``) until every scheduled delivery and redelivery finished."""
        async with asyncio.timeout(seconds):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
