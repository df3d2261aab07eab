"""Sandbox mode: an embedded YooKassa-compatible API and checkout page for shops without keys.

The product keeps its real code path: the official SDK is configured with ``SANDBOX_SHOP_ID`` /
``SANDBOX_SECRET_KEY`` and ``api_url=sandbox.api_url()``, and talks HTTP to the routes added here.
Confirmation URLs open ``/sandbox/checkout/<id>`` (``page.py``), where Pay and Decline move the
payment on and send the HTTP notification the way YooKassa would (``delivery.py``). Everything is
marked as a test: ``test: true`` on every object and a SANDBOX banner on the page.

State lives in memory only: a restart of the service forgets every sandbox payment and refund.
No real money moves, ever. Never mount this in production.
"""

from __future__ import annotations

import copy
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request

from payments.money import quantize
from payments.yookassa.sandbox import page
from payments.yookassa.sandbox.delivery import Deliveries
from payments.yookassa.sandbox.methods import SavedMethods, card_method
from payments.yookassa.sandbox.wire import (
    JSON,
    SANDBOX_SHOP_ID,
    ApiError,
    Handler,
    IdempotenceStore,
    api_endpoint,
    as_object,
    bad,
    check_receipt,
    iso,
    money_json,
    parse_amount,
    parse_metadata,
    parse_text,
    unknown_route,
)

log = logging.getLogger(__name__)

SANDBOX_GATEWAY_ID = "sandbox"

_ID_EPOCH = datetime(2000, 1, 1, 12, tzinfo=UTC)  # YooKassa ids start with seconds since this
_CAPTURE_WINDOW = timedelta(days=7)  # bank cards: 7 days to capture or cancel
_FEE = Decimal("0.035")  # a plausible acquiring fee, so income_amount differs from amount


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
        self._saves: set[str] = set()  # payments that asked to save their method
        # Saved methods and the switches that make their charges fail (methods.py).
        self.methods = SavedMethods()
        self.idempotence = IdempotenceStore()
        self._deliveries = Deliveries(self.redelivery_delays)

    def api_url(self) -> str:
        """Return the value for the SDK's ``Configuration.configure(api_url=...)``."""
        return f"{self.public_base_url}{self.api_path}"

    def checkout_url(self, payment_id: str) -> str:
        """Return the page where the payer pays or declines a sandbox payment."""
        return f"{self.public_base_url}/sandbox/checkout/{payment_id}"

    async def pay(self, payment_id: str) -> dict[str, Any]:
        """Pay a pending payment as the payer would (KeyError if unknown; finished: unchanged)."""
        payment = self.lookup(payment_id)
        if payment is None:
            raise KeyError(payment_id)
        if payment["status"] == "pending":
            self._authorize(payment)
        return copy.deepcopy(payment)

    async def decline(self, payment_id: str) -> dict[str, Any]:
        """Decline a pending payment as the bank would (KeyError if unknown; finished: as is)."""
        payment = self.lookup(payment_id)
        if payment is None:
            raise KeyError(payment_id)
        if payment["status"] == "pending":
            self._cancel(payment, "payment_network", "general_decline")
        return copy.deepcopy(payment)

    def lookup(self, payment_id: str) -> JSON | None:
        """Return a payment (None if unknown), canceling an authorization past its window."""
        payment = self.payments.get(payment_id)
        # YooKassa cancels an authorization nobody captured in time; do it on the next look.
        if (
            payment is not None
            and payment["status"] == "waiting_for_capture"
            and datetime.now(UTC) >= datetime.fromisoformat(payment["expires_at"])
        ):
            self._cancel(payment, "yoo_money", "expired_on_capture")
        return payment

    def saves_method(self, payment_id: str) -> bool:
        """Whether the payment asked to save its method (``save_payment_method: true``)."""
        return payment_id in self._saves

    def return_url(self, payment_id: str) -> str:
        """Return where the payer goes back after paying ("" if the payment is unknown)."""
        return self._return_urls.get(payment_id, "")

    async def wait_deliveries(self) -> None:
        """Wait until every notification delivery under way has ended (delivered or given up)."""
        await self._deliveries.wait()

    async def close(self) -> None:
        """Cancel pending notification deliveries and close the HTTP client."""
        await self._deliveries.close()

    # ------------------------------------------------------------------ API handlers
    def _create_payment(self, _request: Request, raw: Any) -> JSON:
        """``POST /payments``: pending with a checkout redirect, or a saved method charged."""
        body = as_object(raw, None)
        amount = parse_amount(body.get("amount"))
        capture = body.get("capture", False)  # the API's default, as in production
        if not isinstance(capture, bool):
            raise bad("Invalid request parameter", "capture")
        save, charged = self.methods.requested(body)
        return_url = _return_url(body) if charged is None else ""
        if body.get("receipt") is not None:
            check_receipt(body["receipt"], amount)
        payment_id = self._new_id("000f")
        payment: JSON = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": money_json(amount),
            "recipient": {"account_id": SANDBOX_SHOP_ID, "gateway_id": SANDBOX_GATEWAY_ID},
            "created_at": iso(datetime.now(UTC)),
            "test": True,
            "refundable": False,
        }
        if charged is None:
            payment["confirmation"] = {
                "type": "redirect",
                "return_url": return_url,
                "confirmation_url": self.checkout_url(payment_id),
            }
        if body.get("description") is not None:
            payment["description"] = parse_text(body["description"], 128, "description")
        if body.get("metadata") is not None:
            payment["metadata"] = parse_metadata(body["metadata"])
        if body.get("receipt") is not None:
            payment["receipt_registration"] = "pending"
        self.payments[payment_id] = payment
        self._capture[payment_id] = capture
        self._return_urls[payment_id] = return_url
        if save:
            self._saves.add(payment_id)
        if charged is not None:  # a saved method, charged at once: nobody confirms
            payment["payment_method"] = charged
            failed = self.methods.outcome(charged["id"])
            if failed is None:
                self._authorize(payment)
            else:
                if failed[1] == "permission_revoked":
                    charged.update(saved=False, status="inactive")
                self._cancel(payment, *failed)
        return copy.deepcopy(payment)

    def _list_payments(self, request: Request, _raw: Any) -> JSON:
        """List payments, newest first, filtered by status and created_at.gte (cursor paging)."""
        query = request.query_params
        items = [self.lookup(pid) for pid in list(self.payments)]
        found = [copy.deepcopy(p) for p in items if p is not None]
        if "status" in query:
            found = [p for p in found if p["status"] == query["status"]]
        since = query.get("created_at.gte")
        if since:
            try:
                bound = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise bad("Invalid date", "created_at.gte") from None
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
            raise bad("Invalid request parameter", "limit") from None
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
        params = as_object(raw, None) if raw is not None else {}
        if payment["status"] != "waiting_for_capture":
            raise bad("Payment can not be captured in current status")
        authorized = Decimal(payment["amount"]["value"])
        amount = authorized
        if params.get("amount") is not None:
            amount = parse_amount(params["amount"])
            if amount > authorized:
                raise bad("Capture amount exceeds the authorized amount", "amount.value")
        if params.get("receipt") is not None:
            check_receipt(params["receipt"], amount)
            payment["receipt_registration"] = "pending"
        self._succeed(payment, amount)
        return copy.deepcopy(payment)

    def _cancel_payment(self, request: Request, _raw: Any) -> JSON:
        """``POST /payments/{id}/cancel``: release an authorized payment."""
        payment = self._find(request.path_params["payment_id"])
        if payment["status"] != "waiting_for_capture":
            raise bad("Payment can not be canceled in current status")
        self._cancel(payment, "merchant", "canceled_by_merchant")
        return copy.deepcopy(payment)

    def _create_refund(self, _request: Request, raw: Any) -> JSON:
        """``POST /refunds``: an immediately succeeded full or partial refund."""
        body = as_object(raw, None)
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or len(payment_id) != 36:
            raise bad("Invalid payment_id", "payment_id")
        payment = self.lookup(payment_id)
        if payment is None:
            raise bad("Payment not found or forbidden", "payment_id")
        amount = parse_amount(body.get("amount"))
        if payment["status"] != "succeeded":
            raise bad("Payment can not be refunded in current status.", "payment_id")
        total = Decimal(payment["amount"]["value"])
        refunded = Decimal(payment.get("refunded_amount", {}).get("value", "0"))
        if refunded >= total:
            raise bad("Payment is already completely refunded", "payment_id")
        if refunded + amount > total:
            raise bad("Refund sum exceeded", "amount")
        refund: JSON = {
            "id": self._new_id("0015"),
            "payment_id": payment_id,
            "status": "succeeded",
            "amount": money_json(amount),
            "created_at": iso(datetime.now(UTC)),
        }
        if body.get("description") is not None:
            refund["description"] = parse_text(body["description"], 250, "description")
        if body.get("metadata") is not None:
            refund["metadata"] = parse_metadata(body["metadata"])
        if body.get("receipt") is not None:
            check_receipt(body["receipt"], amount)
            refund["receipt_registration"] = "succeeded"
        self.refunds[refund["id"]] = refund
        payment["refunded_amount"] = money_json(refunded + amount)
        payment["refundable"] = refunded + amount < total
        self._emit("refund.succeeded", refund)
        return copy.deepcopy(refund)

    def _get_refund(self, request: Request, _raw: Any) -> JSON:
        """``GET /refunds/{id}``."""
        refund = self.refunds.get(request.path_params["refund_id"])
        if refund is None:
            raise ApiError(404, "not_found", "Refund not found or forbidden", "refund_id")
        return copy.deepcopy(refund)

    # ------------------------------------------------------------------ state transitions
    def _new_id(self, kind: str) -> str:
        seconds = int((datetime.now(UTC) - _ID_EPOCH).total_seconds()) & 0xFFFFFFFF
        while True:
            new_id = f"{seconds:08x}-{kind}-5000-8000-{secrets.token_hex(6)}"
            if new_id not in self.payments and new_id not in self.refunds:
                return new_id

    def _find(self, payment_id: str) -> JSON:
        payment = self.lookup(payment_id)
        if payment is None:
            raise ApiError(404, "not_found", "Payment not found or forbidden", "payment_id")
        return payment

    def _authorize(self, payment: JSON) -> None:
        payment_id = payment["id"]
        method = payment.get("payment_method") or card_method(payment_id)
        if payment_id in self._saves:
            self.methods.save(method)
        payment["payment_method"] = method
        payment["paid"] = True
        payment.pop("confirmation", None)
        if self._capture.get(payment_id, False):
            self._succeed(payment, Decimal(payment["amount"]["value"]))
            return
        payment["status"] = "waiting_for_capture"
        payment["expires_at"] = iso(datetime.now(UTC) + _CAPTURE_WINDOW)
        self._emit("payment.waiting_for_capture", payment)

    def _succeed(self, payment: JSON, amount: Decimal) -> None:
        payment.update(
            status="succeeded",
            paid=True,
            refundable=True,
            amount=money_json(amount),
            income_amount=money_json(amount - quantize(amount * _FEE)),
            captured_at=iso(datetime.now(UTC)),
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
        self._deliveries.send(self.webhook_url, body)


def _return_url(body: JSON) -> str:
    """The redirect confirmation's return URL (the only confirmation the sandbox offers)."""
    confirmation = as_object(body.get("confirmation"), "confirmation")
    if confirmation.get("type") != "redirect":
        raise bad("The sandbox supports only redirect confirmation", "confirmation.type")
    return_url = confirmation.get("return_url")
    if not isinstance(return_url, str) or not 1 <= len(return_url) <= 2048:
        raise bad("Invalid return_url", "confirmation.return_url")
    return return_url


def setup(app: FastAPI, sandbox: SandboxYooKassa, describe: page.Describe | None = None) -> None:
    """Add the sandbox API and checkout routes (hidden from the OpenAPI document).

    `describe` is the shop's side of the checkout page: what a payment buys, in the customer's
    language (without it the page shows the payment's description).
    """
    api = sandbox.api_path
    routes: list[tuple[str, Handler, str, bool]] = [
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
            api_endpoint(handler, sandbox.idempotence if idempotent else None),
            methods=[method],
            include_in_schema=False,
        )
    # Added last so that it only takes what no route above matched.
    app.add_api_route(
        api + "/{rest:path}",
        unknown_route,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    page.setup(app, sandbox, describe)
    log.info("SANDBOX: embedded YooKassa API at %s; no real money moves", sandbox.api_url())
