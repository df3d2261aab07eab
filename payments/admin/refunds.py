"""The admin's /refund: all that is left of a payment, or an amount of it, through YooKassa.

* The amount is reserved first: `payments.refunded_amount + x <= amount` in one UPDATE, so a
  refund beyond what is left is refused before YooKassa is asked, however many admins press.
  Each refund row has its own idempotence key, stored with it; asking again reuses it, so a
  retry after a timeout can never refund twice. YooKassa refusing or canceling a refund gives
  the reservation back.
* What the refund does to tickets, seats and subscriptions is `settlement`'s, applied once by
  whoever sees it succeed first: this flow or the `refund.succeeded` notification.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, Refund
from db.repositories import payments as payments_repo
from db.repositories import refunds as refunds_repo
from db.repositories import tickets as tickets_repo
from db.repositories.subscriptions import get_subscription
from payments.admin import audit
from payments.admin.lookup import find_payment
from payments.admin.results import Refusal
from payments.admin.settlement import RefundSettlement
from payments.catalog import Catalog
from payments.money import ZERO, wire
from payments.ports import Clock, PaymentGateway
from payments.receipts import receipt_of, refund_receipt
from payments.types import PaymentKind, PaymentStatus, Receipt, TicketStatus
from payments.yookassa.gateway import GatewayRejected, GatewayUnavailable

log = logging.getLogger(__name__)

# A pending refund with no YooKassa answer may still be on its way; after this long (or once
# the gateway gave up on it, which is recorded) it is safe to ask again with its key.
REFUND_IN_FLIGHT = timedelta(minutes=10)


class RefundState(StrEnum):
    """Where a refund stands after `refund`."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"  # YooKassa accepted it; refund.succeeded will finish it
    CANCELED = "canceled"
    UNANSWERED = "unanswered"  # YooKassa did not answer; the same key is retried next time


@dataclass(frozen=True, slots=True)
class RefundResult:
    """What a refund did to a payment."""

    payment_id: str
    order_id: str | None
    provider_id: str | None
    kind: str
    refund_id: int
    amount: Decimal
    state: RefundState
    refunded_total: Decimal
    payment_amount: Decimal
    tickets_refunded: int
    tickets_total: int
    subscription_expires_at: datetime | None
    subscription_active: bool
    retried: bool


@dataclass(frozen=True, slots=True)
class RefundCheck:
    """A refund that may be made: the payment, the amount, the unanswered refund it retries."""

    payment: Payment
    amount: Decimal
    waiting: Refund | None


def _too_much(payment: Payment, want: Decimal) -> Refusal:
    left = payment.amount - payment.refunded_amount
    return Refusal(
        "refund_too_much",
        f"asked {wire(want)}, only {wire(left)} of {wire(payment.amount)} is left",
        payment_id=payment.id,
        requested=want,
        left=left,
        total=payment.amount,
    )


def _changed(payment: Payment, expected: Decimal) -> Refusal:
    return Refusal(
        "refund_changed",
        f"refunded {wire(payment.refunded_amount)} of {wire(payment.amount)}, "
        f"{wire(expected)} when confirmed",
        payment_id=payment.id,
        refunded=payment.refunded_amount,
        total=payment.amount,
        expected=expected,
    )


class Refunds:
    """Refund a payment from the bot: reserve, ask YooKassa, apply through the settlement."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: PaymentGateway,
        settlement: RefundSettlement,
        catalog: Catalog,
        clock: Clock,
        fallback_email_domain: str = "burlive.ru",
    ) -> None:
        """Keep the collaborators; the domain makes refund receipts' fallback e-mail."""
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._settlement = settlement
        self._catalog = catalog
        self._clock = clock
        self._fallback_email_domain = fallback_email_domain

    async def refund(
        self,
        admin_id: int,
        query: str,
        amount: Decimal | None = None,
        *,
        expect_refunded: Decimal | None = None,
    ) -> RefundResult:
        """Refund all that is left of a payment, or `amount` of it, through YooKassa.

        See payments/admin/settlement.py for the rules on tickets and subscriptions. An earlier
        refund of the same payment that YooKassa left unanswered is asked again first, with its
        own key; one that may still be on its way (another admin's, right now) is refused.
        With `expect_refunded` (what a confirmed preview saw), a payment whose refunded amount
        is no longer that is refused: the admin confirmed something that is not true any more.
        """
        args: dict[str, Any] = {"query": query, "amount": wire(amount) if amount else None}
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            prepared = await self._prepare_refund(
                session, admin_id, query, amount, now, expect_refunded
            )
        if isinstance(prepared, Refusal):
            await audit.refuse(
                self._sessionmaker, self._clock, admin_id, "refund", query[:64], args, prepared
            )
        payment_id, provider_id, row_id, want, key, retried, receipt = prepared
        try:
            # The receipt is built the same way on a retry, so the retried body is the same.
            remote = await self._gateway.create_refund(provider_id, want, key, receipt=receipt)
        except GatewayUnavailable as exc:
            log.warning("refund %s of %s: YooKassa did not answer: %s", row_id, payment_id, exc)
            async with self._sessionmaker.begin() as session:
                payments_repo.add_event(
                    session,
                    payment_id=payment_id,
                    provider_id=provider_id,
                    source="admin",
                    event="refund_unanswered",
                    detail={"refund": row_id, "error": str(exc)[:300]},
                    at=self._clock.now(),
                )
            await audit.record(
                self._sessionmaker,
                self._clock,
                admin_id,
                "refund",
                payment_id,
                args,
                f"refund #{row_id} of {wire(want)}: no answer from YooKassa; kept pending",
            )
            return await self._refund_result(payment_id, row_id, RefundState.UNANSWERED, retried)
        except GatewayRejected as exc:
            async with self._sessionmaker.begin() as session:
                if await refunds_repo.cancel(session, row_id):
                    await refunds_repo.unreserve(session, payment_id, want)
                payments_repo.add_event(
                    session,
                    payment_id=payment_id,
                    provider_id=provider_id,
                    source="admin",
                    event="refund_rejected",
                    detail={"refund": row_id, "error": str(exc)[:300]},
                    at=self._clock.now(),
                )
            await audit.refuse(
                self._sessionmaker,
                self._clock,
                admin_id,
                "refund",
                payment_id,
                args,
                Refusal(
                    "refund_rejected",
                    f"YooKassa refused refund #{row_id}: {exc}",
                    error=exc.description or exc.code,
                ),
            )
        applied = await self._settlement.apply_refund(remote, source="admin", refund_id=row_id)
        state = {
            "succeeded": RefundState.SUCCEEDED,
            "canceled": RefundState.CANCELED,
        }.get(remote.status, RefundState.PENDING)
        result = await self._refund_result(payment_id, row_id, state, retried)
        await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            "refund",
            payment_id,
            args,
            f"refund #{row_id} of {wire(want)} {state.value} ({applied.outcome.value}); "
            f"refunded {wire(result.refunded_total)} of {wire(result.payment_amount)}",
        )
        return result

    async def check(
        self, session: AsyncSession, query: str, amount: Decimal | None, now: datetime
    ) -> Refusal | RefundCheck:
        """Say what a refund of `query` would be, or why it would be refused; change nothing."""
        payment = await find_payment(session, query)
        if payment is None:
            return Refusal("payment_not_found", f"no payment {query!r}", query=query)
        if payment.status != PaymentStatus.SUCCEEDED or payment.provider_id is None:
            return Refusal(
                "refund_not_paid",
                f"payment {payment.id} is {payment.status}",
                payment_id=payment.id,
                status=payment.status,
            )
        if amount is not None and amount <= 0:
            return Refusal("refund_bad_amount", "amount must be positive", payment_id=payment.id)
        waiting = await refunds_repo.unanswered(session, payment.id)
        if waiting is not None:
            gave_up = any(
                e.event == "refund_unanswered" and (e.detail or {}).get("refund") == waiting.id
                for e in await payments_repo.events_of(session, payment.id)
            )
            if not gave_up and now - waiting.created_at < REFUND_IN_FLIGHT:
                return Refusal(
                    "refund_in_progress",
                    f"refund #{waiting.id} of {wire(waiting.amount)} is being made right now",
                    payment_id=payment.id,
                    amount=waiting.amount,
                )
            if amount is not None and amount != waiting.amount:
                return Refusal(
                    "refund_unanswered",
                    f"refund #{waiting.id} of {wire(waiting.amount)} is still unanswered",
                    payment_id=payment.id,
                    amount=waiting.amount,
                )
            return RefundCheck(payment, waiting.amount, waiting)
        left = payment.amount - payment.refunded_amount
        if left <= 0:
            return Refusal(
                "refund_nothing_left",
                f"{wire(payment.refunded_amount)} of {wire(payment.amount)} already refunded",
                payment_id=payment.id,
                refunded=payment.refunded_amount,
                total=payment.amount,
            )
        want = left if amount is None else amount
        if want > left:
            return _too_much(payment, want)
        return RefundCheck(payment, want, None)

    async def _prepare_refund(
        self,
        session: AsyncSession,
        admin_id: int,
        query: str,
        amount: Decimal | None,
        now: datetime,
        expect_refunded: Decimal | None = None,
    ) -> Refusal | tuple[str, str, int, Decimal, str, bool, Receipt]:
        """Reserve the amount and write the pending refund row (or find the unanswered one).

        Also build the refund's receipt from the one the payment was sold with (54-FZ).
        """
        checked = await self.check(session, query, amount, now)
        if isinstance(checked, Refusal):
            return checked
        payment, want, waiting = checked.payment, checked.amount, checked.waiting
        if expect_refunded is not None and payment.refunded_amount != expect_refunded:
            return _changed(payment, expect_refunded)
        assert payment.provider_id is not None  # noqa: S101 - check() refuses one without
        if waiting is not None:
            return (
                payment.id,
                payment.provider_id,
                waiting.id,
                waiting.amount,
                waiting.idempotence_key,
                True,
                await self._refund_receipt(session, payment, waiting.amount),
            )
        if not await refunds_repo.reserve(session, payment.id, want, expected=expect_refunded):
            # Someone else's refund got there first: say what is true now.
            await session.refresh(payment)
            if expect_refunded is not None:
                return _changed(payment, expect_refunded)
            return _too_much(payment, want)
        key = f"{payment.id}-refund-{secrets.token_hex(8)}"
        row = Refund(
            payment_id=payment.id,
            idempotence_key=key,
            amount=want,
            status="pending",
            requested_by=admin_id,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        payments_repo.add_event(
            session,
            payment_id=payment.id,
            provider_id=payment.provider_id,
            source="admin",
            event="refund_requested",
            detail={"refund": row.id, "amount": wire(want), "by": admin_id},
            at=now,
        )
        receipt = await self._refund_receipt(session, payment, want)
        return payment.id, payment.provider_id, row.id, want, key, False, receipt

    async def _refund_receipt(
        self, session: AsyncSession, payment: Payment, amount: Decimal
    ) -> Receipt:
        """Return the receipt of a refund of `amount`: the sold lines, or a share of each."""
        sold = await receipt_of(session, payment, self._catalog, self._fallback_email_domain)
        return refund_receipt(sold, amount)

    async def _refund_result(
        self, payment_id: str, refund_id: int, state: RefundState, retried: bool
    ) -> RefundResult:
        """Read back what a refund left behind (whichever path applied it)."""
        async with self._sessionmaker() as session:
            payment = await payments_repo.get_payment(session, payment_id)
            assert payment is not None  # noqa: S101 - it was found moments ago
            await session.refresh(payment)
            row = await refunds_repo.get_refund(session, refund_id)
            tickets = await tickets_repo.of_payment(session, payment_id)
            subscription = await get_subscription(session, payment.user_id)
        return RefundResult(
            payment_id=payment_id,
            order_id=payment.order_id,
            provider_id=payment.provider_id,
            kind=payment.kind,
            refund_id=refund_id,
            amount=row.amount if row else ZERO,
            state=state,
            refunded_total=payment.refunded_amount,
            payment_amount=payment.amount,
            tickets_refunded=sum(1 for t in tickets if t.status == TicketStatus.REFUNDED),
            tickets_total=len(tickets),
            subscription_expires_at=subscription.expires_at
            if subscription and payment.kind == PaymentKind.SUBSCRIPTION
            else None,
            subscription_active=subscription is not None
            and subscription.status == "active"
            and subscription.expires_at > self._clock.now(),
            retried=retried,
        )
