"""YooKassaGateway: payments and refunds through the official SDK, async, bounded and retried.

The SDK is synchronous, sets no network timeout, retries nothing over plain HTTP and turns
transport failures into AttributeError (yookassa.md §9). So every call runs in a greenlet on
the event loop, its HTTP through the gateway's aiohttp session (payments/yookassa/transport.py),
`max_workers` connections at most, with a deadline that covers all attempts, and transient
failures (timeouts, connection errors, 5xx, 429, 202) are retried with backoff and the SAME
idempotence key, so a retried create can never make a second payment. The SDK's logger is
never configured: it would log the Authorization header. The SDK itself is loaded, on the
first call, by payments/yookassa/sdk.py, the only module that imports it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.util import greenlet_spawn

from payments.loop_turns import away
from payments.money import wire
from payments.types import (
    PaymentRequest,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
    Receipt,
)
from payments.yookassa.mapping import payment_params, receipt_json, to_payment, to_refund
from payments.yookassa.sdk import SESSION, Sdk, TransportError, load_sdk, sdk_loaded

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BACKOFF = (0.3, 1.0, 2.0, 4.0)


class GatewayError(Exception):
    """A YooKassa call failed."""


class GatewayUnavailable(GatewayError):
    """YooKassa did not give a definite answer in time (timeouts, 5xx, 429): safe to retry later."""


class GatewayRejected(GatewayError):
    """YooKassa refused the request (4xx); retrying the same request will not help."""

    def __init__(self, status: int, code: str, description: str, parameter: str | None) -> None:
        """Keep YooKassa's error code, description and the parameter it blames."""
        super().__init__(
            f"{status} {code}: {description}" + (f" ({parameter})" if parameter else "")
        )
        self.status = status
        self.code = code
        self.description = description
        self.parameter = parameter


class GatewayNotFound(GatewayRejected):
    """YooKassa does not know the object."""


def _is_transient(exc: BaseException, sdk: Sdk) -> bool:
    if isinstance(exc, (TransportError, *sdk.transient)):
        return True
    code = getattr(exc, "HTTP_CODE", None)
    return isinstance(exc, sdk.api_error) and isinstance(code, int) and code >= 500  # noqa: PLR2004


def _rejected(exc: Exception, sdk: Sdk) -> GatewayRejected:
    content = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    status = int(getattr(exc, "HTTP_CODE", 400) or 400)
    kind = GatewayNotFound if isinstance(exc, sdk.not_found) else GatewayRejected
    return kind(
        status,
        str(content.get("code", "error")),
        str(content.get("description", "")),
        content.get("parameter"),
    )


class YooKassaGateway:
    """Payments and refunds through the official SDK, async, bounded and retried."""

    def __init__(
        self,
        *,
        shop_id: str,
        secret_key: str,
        api_url: str,
        timeout: float = 15.0,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        max_workers: int = 64,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        """Keep the credentials; the SDK and the session are made on the first call.

        `max_workers` calls are in flight at once (YOOKASSA_CONCURRENCY): the session's
        connections; a connection is opened only when every one it has is busy.
        """
        self._account = (shop_id, secret_key, api_url.rstrip("/"))
        self._timeout = timeout
        self._backoff = tuple(backoff)
        self._sleep = sleep
        self._limit = max_workers
        self._session: Any = None
        self._closed = False

    async def close(self) -> None:
        """Close the session; calls still in flight fail as YooKassa being unreachable."""
        self._closed = True
        if self._session is not None:
            await self._session.aclose()

    def _configured(self) -> Sdk:
        """Load the SDK and point its process-global configuration at this gateway's shop."""
        sdk = load_sdk()
        shop_id, secret_key, api_url = self._account
        # configure() resets api_url when the kwarg is missing (yookassa.md §9.1): always pass it.
        config = sdk.configuration
        if (config.account_id, config.secret_key, config.api_url) != self._account:
            config.configure(shop_id, secret_key, api_url=api_url)
        return sdk

    async def _call(self, what: str, fn: Callable[[Sdk], T]) -> T:
        """Make one call (`_answer`); a notification waiting here lets its turn on the event
        loop go meanwhile (payments/loop_turns.py)."""
        async with away():
            return await self._answer(what, fn)

    async def _answer(self, what: str, fn: Callable[[Sdk], T]) -> T:
        """Run fn in a greenlet on the loop until it answers, retrying transient failures."""
        if not sdk_loaded():  # the first call imports the SDK off the loop
            await asyncio.to_thread(load_sdk)
        sdk = self._configured()
        if self._session is None:
            self._session = sdk.session(self._account[2], self._limit)
        deadline = time.monotonic() + self._timeout
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise GatewayUnavailable(f"{what}: no answer within {self._timeout:g}s")
            if self._closed:
                raise GatewayUnavailable(f"{what}: gateway closed")
            token = SESSION.set(self._session)
            try:
                # A timeout scope, not wait_for: that wraps the call in a task of its own.
                async with asyncio.timeout(remaining):
                    return await greenlet_spawn(fn, sdk)
            except TimeoutError:
                raise GatewayUnavailable(f"{what}: no answer within {self._timeout:g}s") from None
            except sdk.api_error as exc:
                if not _is_transient(exc, sdk):
                    raise _rejected(exc, sdk) from None
                reason = f"HTTP {getattr(exc, 'HTTP_CODE', '?')}"
            except TransportError as exc:
                reason = str(exc)
            except (TypeError, ValueError, AttributeError) as exc:
                # The SDK refused our parameters, or could not parse YooKassa's answer.
                raise GatewayRejected(0, "invalid", f"{what}: {exc}", None) from exc
            except RuntimeError as exc:  # the session was closed
                raise GatewayUnavailable(f"{what}: gateway closed") from exc
            finally:
                SESSION.reset(token)
            delay = self._backoff[min(attempt, len(self._backoff) - 1)]
            attempt += 1
            if time.monotonic() + delay >= deadline:
                raise GatewayUnavailable(f"{what}: {reason}; gave up after {attempt} attempts")
            log.warning("yookassa %s: %s; retry %d in %.1fs", what, reason, attempt, delay)
            await self._sleep(delay)

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        """Create a payment; a retry with the same idempotence key returns the same payment.

        With `request.payment_method_id` it charges that saved method at once (no confirmation);
        with `request.save_payment_method` it asks YooKassa to save the method paid with.
        """
        params = payment_params(request)

        def call(sdk: Sdk) -> ProviderPayment:
            return to_payment(sdk.payment.create(params, request.idempotence_key))

        return await self._call("create payment", call)

    async def list_payments(
        self, status: PaymentStatus, created_since: datetime, limit: int = 10_000
    ) -> list[ProviderPayment]:
        """List payments in a status created since a moment (all pages, up to a limit)."""
        found: list[ProviderPayment] = []
        cursor: str | None = None
        while len(found) < limit:
            params: dict[str, Any] = {
                "status": status.value,
                "created_at.gte": created_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "limit": 100,
            }
            if cursor:
                params["cursor"] = cursor

            def call(
                sdk: Sdk, query: dict[str, Any] = params
            ) -> tuple[list[ProviderPayment], str | None]:
                page = sdk.payment.list(query)
                items = [to_payment(item) for item in (page.items or [])]
                return items, getattr(page, "next_cursor", None) or None

            items, cursor = await self._call("list payments", call)
            found.extend(items)
            if not cursor:
                break
        return found

    async def get_payment(self, provider_id: str) -> ProviderPayment:
        """Fetch a payment's current state."""

        def call(sdk: Sdk) -> ProviderPayment:
            return to_payment(sdk.payment.find_one(provider_id))

        return await self._call("get payment", call)

    async def capture_payment(
        self, provider_id: str, amount: Decimal, idempotence_key: str
    ) -> ProviderPayment:
        """Capture an authorised two-stage payment in full."""
        params = {"amount": {"value": wire(amount), "currency": "RUB"}}

        def call(sdk: Sdk) -> ProviderPayment:
            return to_payment(sdk.payment.capture(provider_id, params, idempotence_key))

        return await self._call("capture payment", call)

    async def cancel_payment(self, provider_id: str, idempotence_key: str) -> ProviderPayment:
        """Cancel an authorised two-stage payment: the money goes back to the customer."""

        def call(sdk: Sdk) -> ProviderPayment:
            return to_payment(sdk.payment.cancel(provider_id, idempotence_key))

        return await self._call("cancel payment", call)

    async def create_refund(
        self,
        provider_id: str,
        amount: Decimal,
        idempotence_key: str,
        description: str = "",
        receipt: Receipt | None = None,
    ) -> ProviderRefund:
        """Refund all or part of a succeeded payment, with the refund's receipt if given."""
        params: dict[str, Any] = {
            "payment_id": provider_id,
            "amount": {"value": wire(amount), "currency": "RUB"},
        }
        if description:
            params["description"] = description[:250]
        if receipt is not None:
            params["receipt"] = receipt_json(receipt)

        def call(sdk: Sdk) -> ProviderRefund:
            return to_refund(sdk.refund.create(params, idempotence_key))

        return await self._call("create refund", call)

    async def get_refund(self, refund_id: str) -> ProviderRefund:
        """Fetch a refund's current state."""

        def call(sdk: Sdk) -> ProviderRefund:
            return to_refund(sdk.refund.find_one(refund_id))

        return await self._call("get refund", call)
