"""YooKassa notifications: trusted peers only, read the id, re-fetch, act on what YooKassa says.

Status codes are deliberate: 200 once handled, for payments that are not ours and for anything
already applied; 403 for callers outside YooKassa's networks; 400 for bodies that are not a
notification; 503 only when we want YooKassa to deliver again (we could not ask it, or our
database failed).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers

from payments.admin.settlement import RefundApplied
from payments.api.limits import WEBHOOK_MAX_BODY_BYTES, allow_body
from payments.applied import Applied
from payments.fulfilment import Fulfilment, Outcome
from payments.keyed_locks import KeyedLocks
from payments.loop_turns import LoopTurns
from payments.metrics import WEBHOOKS
from payments.ports import PaymentGateway
from payments.types import PaymentStatus, ProviderRefund
from payments.yookassa.gateway import GatewayError, GatewayNotFound
from payments.yookassa.settled import SettledPayments

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
PROVIDER_ID_LENGTH = 36
_ID_CHARS = frozenset("0123456789abcdefABCDEF-")
WEBHOOK_PATH = "/api/v2/payments/webhook/yookassa"


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: IPAddress, networks: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


class RefundApplier(Protocol):
    """Applies a refund as fetched from YooKassa, once (payments.admin.settlement implements it)."""

    async def apply_refund(self, remote: ProviderRefund, *, source: str) -> RefundApplied:
        """Apply the refund and say what that did."""
        ...


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[Network]
) -> IPAddress | None:
    """Return the caller's address, believing X-Forwarded-For only from our own proxies.

    Walk the chain from the right: every hop added by a trusted proxy is skipped, and the
    first address that is not one of our proxies is the caller. A client can prepend anything
    it likes to the header, so nothing left of that point is ever believed.
    """
    address = _address(peer) if peer else None
    if address is None or not forwarded_for or not _within(address, trusted_proxies):
        return address
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _address(hop)
        if hop_address is None:
            return None
        if not _within(hop_address, trusted_proxies):
            return hop_address
    return address


def forwarded_chain(headers: Headers) -> str | None:
    """Return every X-Forwarded-For line as one chain, in order (None without the header).

    A proxy may add its hop as a line of its own instead of appending to the last one; reading
    only the first line would skip those hops and believe whatever the client wrote there.
    """
    lines = headers.getlist("x-forwarded-for")
    return ",".join(lines) if lines else None


class WebhookHandler:
    """Verify and handle one YooKassa notification."""

    def __init__(
        self,
        *,
        gateway: PaymentGateway,
        fulfilment: Fulfilment,
        trusted_networks: Sequence[Network],
        trusted_proxies: Sequence[Network],
        turns: LoopTurns,
        refunds: RefundApplier | None = None,
    ) -> None:
        """Keep the collaborators and the allow-lists; `turns`: how many notifications are
        applied at a time (payments/loop_turns.py)."""
        self._gateway = gateway
        self._fulfilment = fulfilment
        self._refunds = refunds
        self._trusted = list(trusted_networks)
        self._proxies = list(trusted_proxies)
        self._settled = SettledPayments()
        self._locks: KeyedLocks[str] = KeyedLocks()  # one notification at a time per payment
        # ...and `turns.limit` at a time in all, customers' answers first (payments/loop_turns.py).
        self.turns = turns

    async def handle(self, request: Request) -> JSONResponse:
        """Answer a notification with a status code YooKassa understands."""
        peer = request.client.host if request.client else None
        caller = client_address(peer, forwarded_chain(request.headers), self._proxies)
        if caller is None or not _within(caller, self._trusted):
            log.warning("webhook: refused a call from %s", caller or peer)
            return JSONResponse({"success": False, "message": "Forbidden"}, status_code=403)
        # The body is at most WEBHOOK_MAX_BODY_BYTES: payments.api.limits refused anything more.
        parsed = _parse(await request.body())
        if parsed is None:
            return JSONResponse(
                {"success": False, "message": "Not a YooKassa notification"}, status_code=400
            )
        event, object_id = parsed
        if event.startswith("refund.") and self._refunds is not None:
            async with self.turns.turn():
                return await self._refund(event, object_id, self._refunds)
        if not event.startswith("payment."):
            log.info("webhook: %s for %s acknowledged", event, object_id)
            return JSONResponse({"success": True})
        # A redelivery of a notification still in hand waits here (taking no turn), then finds
        # it settled.
        async with self._locks.hold(object_id):
            if object_id in self._settled:
                # Applied as succeeded already, from YooKassa's own answer: nothing can change.
                return JSONResponse({"success": True, "result": Outcome.ALREADY.value})
            async with self.turns.turn():
                return await self._payment(event, object_id)

    async def _payment(self, event: str, object_id: str) -> JSONResponse:
        """Re-fetch a payment and apply what YooKassa says about it."""
        try:
            remote = await self._gateway.get_payment(object_id)
        except GatewayNotFound:
            log.info("webhook: %s %s is unknown to YooKassa; ignored", event, object_id)
            return JSONResponse({"success": True, "message": "unknown payment"})
        except GatewayError as exc:
            log.warning(
                "webhook: cannot fetch %s from YooKassa (%s); asking for a retry", object_id, exc
            )
            return _retry()
        try:
            applied = await self._fulfilment.apply(remote, source="webhook")
        except SQLAlchemyError:
            log.exception("webhook: database error on %s; asking for a retry", object_id)
            return _retry()
        if applied.outcome is Outcome.RETRY:
            return _retry()
        if settled(remote.status, applied):
            self._settled.add(object_id)
        return JSONResponse({"success": True, "result": applied.outcome.value})

    async def _refund(self, event: str, refund_id: str, refunds: RefundApplier) -> JSONResponse:
        """Re-fetch a refund and apply what YooKassa says about it (idempotent)."""
        try:
            remote = await self._gateway.get_refund(refund_id)
        except GatewayNotFound:
            log.info("webhook: %s %s is unknown to YooKassa; ignored", event, refund_id)
            return JSONResponse({"success": True, "message": "unknown refund"})
        except GatewayError as exc:
            log.warning("webhook: cannot fetch refund %s (%s); asking for a retry", refund_id, exc)
            return _retry()
        try:
            applied = await refunds.apply_refund(remote, source="webhook")
        except SQLAlchemyError:
            log.exception("webhook: database error on refund %s; asking for a retry", refund_id)
            return _retry()
        return JSONResponse({"success": True, "result": applied.outcome.value})


def settled(fetched: PaymentStatus, applied: Applied) -> bool:
    """Whether YooKassa's payment is final after `applied`: it was fetched succeeded, or it was
    authorised and this call captured it (ours moved to succeeded). An authorised payment that
    ours already called succeeded, or anything else, is asked about again next time."""
    if fetched is PaymentStatus.SUCCEEDED:
        return applied.outcome in (Outcome.APPLIED, Outcome.ALREADY)
    return (
        fetched is PaymentStatus.WAITING_FOR_CAPTURE
        and applied.outcome is Outcome.APPLIED
        and applied.status is PaymentStatus.SUCCEEDED
    )


def _retry() -> JSONResponse:
    return JSONResponse({"success": False, "message": "Try again later"}, status_code=503)


def _parse(body: bytes) -> tuple[str, str] | None:
    """Return (event, object id) of a notification body, or None for anything else."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: a body of a few thousand nested brackets, a cheap way to crash parsers.
        return None
    if not isinstance(data, dict) or data.get("type") != "notification":
        return None
    event, obj = data.get("event"), data.get("object")
    if not isinstance(event, str) or not isinstance(obj, dict):
        return None
    object_id = obj.get("id")
    if not isinstance(object_id, str) or len(object_id) != PROVIDER_ID_LENGTH:
        return None
    if not all(c in _ID_CHARS for c in object_id):
        return None
    return event, object_id


# How the route's answer shows in `zooticket_webhooks_total{result}`.
_RESULTS = {200: "ok", 400: "bad_request", 403: "forbidden", 503: "retry"}


def setup(app: FastAPI, handler: WebhookHandler) -> None:
    """Add `POST /api/v2/payments/webhook/yookassa`."""
    router = APIRouter(tags=["webhooks"])

    @router.post(
        WEBHOOK_PATH,
        summary="YooKassa HTTP notification",
        description=(
            "Accepted only from YooKassa's networks. The body is never trusted: the payment is "
            "fetched from YooKassa and its state applied. 200 when handled or not ours, 503 to "
            "ask for a redelivery."
        ),
        responses={400: {"description": "Not a notification"}, 403: {"description": "Untrusted"}},
    )
    async def yookassa_webhook(request: Request) -> JSONResponse:
        response = await handler.handle(request)
        WEBHOOKS.labels(result=_RESULTS.get(response.status_code, "other")).inc()
        return response

    app.include_router(router)
    allow_body(app, WEBHOOK_PATH, WEBHOOK_MAX_BODY_BYTES)
