"""Payment look-up for /payment: a payment by our id, YooKassa's or its order's, with its events,
tickets or subscription period, refunds and the admin actions on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, User
from db.models_subscriptions import Subscription, SubscriptionPeriod
from db.repositories import audit as audit_repo
from db.repositories import payments as payments_repo
from db.repositories import refunds as refunds_repo
from db.repositories import tickets as tickets_repo
from payments.admin import audit
from payments.admin.renewals import RenewalView, renewal_of
from payments.admin.results import Refusal, display_name
from payments.ports import Clock
from payments.types import PaymentStatus

EVENTS_SHOWN = 25
AUDIT_SHOWN = 10


@dataclass(frozen=True, slots=True)
class PaymentView:
    """A payment as the admin sees it."""

    id: str
    provider_id: str | None
    kind: str
    status: str
    cancel_reason: str | None
    user_id: str
    user_name: str
    order_id: str | None
    plan_code: str | None
    cohort: str | None
    amount: Decimal
    refunded_amount: Decimal
    is_test: bool
    description: str
    customer_email: str | None
    created_at: datetime
    captured_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventView:
    """One recorded event of a payment."""

    at: datetime
    source: str
    event: str
    status_before: str | None
    status_after: str | None


@dataclass(frozen=True, slots=True)
class TicketLine:
    """One ticket of a payment."""

    code: str
    ticket_type: str
    visit_date: date
    slot_time: str
    status: str
    checked_in_at: datetime | None


@dataclass(frozen=True, slots=True)
class PeriodView:
    """The subscription days a payment bought, and the subscription now."""

    days: int
    starts_at: datetime
    ends_at: datetime
    subscription_status: str | None
    subscription_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class RefundView:
    """One refund of a payment."""

    id: int
    amount: Decimal
    status: str
    provider_id: str | None
    requested_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditView:
    """One audit row."""

    at: datetime
    admin_id: int
    action: str
    result: str


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """A payment with its events, tickets or subscription period, refunds and audit rows."""

    payment: PaymentView
    events: tuple[EventView, ...]
    events_total: int
    tickets: tuple[TicketLine, ...]
    period: PeriodView | None
    refunds: tuple[RefundView, ...]
    audit: tuple[AuditView, ...]
    # The renewal this payment pays (a charge of the saved card or a payment by link).
    renewal: RenewalView | None = None


async def find_payment(session: AsyncSession, query: str) -> Payment | None:
    """Find a payment by our id, YooKassa's id or its order id.

    An order may have had several payments (a retry after a decline, say): its paid one is
    the one meant, else the newest.
    """
    query = query.strip()
    if not query or len(query) > 64:
        return None
    payment = await payments_repo.get_payment(session, query)
    if payment is None:
        payment = await payments_repo.get_by_provider_id(session, query)
    if payment is None:
        paid_first = case((Payment.status == PaymentStatus.SUCCEEDED, 0), else_=1)
        result = await session.execute(
            select(Payment)
            .where(Payment.order_id == query)
            .order_by(paid_first, Payment.created_at.desc(), Payment.id.desc())
            .limit(1)
        )
        payment = result.scalar_one_or_none()
    if payment is not None:
        await session.refresh(payment)
    return payment


class PaymentLookup:
    """What an admin sees of one payment."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        """Keep the collaborators."""
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def payment(self, admin_id: int, query: str) -> PaymentDetails:
        """Return a payment (by our id, YooKassa's or the order's) with everything about it."""
        async with self._sessionmaker() as session:
            payment = await find_payment(session, query)
            if payment is not None:
                details = await self._details(session, payment)
        if payment is None:
            await audit.refuse(
                self._sessionmaker,
                self._clock,
                admin_id,
                "payment",
                query[:64],
                {"query": query},
                Refusal("payment_not_found", f"no payment {query!r}", query=query),
            )
        await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            "payment",
            payment.id,
            {"query": query},
            "shown",
        )
        return details

    @staticmethod
    async def _details(session: AsyncSession, payment: Payment) -> PaymentDetails:
        user = await session.get(User, payment.user_id)
        events = await payments_repo.events_of(session, payment.id)
        tickets = await tickets_repo.of_payment(session, payment.id)
        refunds = await refunds_repo.of_payment(session, payment.id)
        audit_rows = await audit_repo.for_target(
            session, payment.id, exclude=("payment",), limit=AUDIT_SHOWN
        )
        period_view = None
        period = (
            await session.execute(
                select(SubscriptionPeriod).where(SubscriptionPeriod.payment_id == payment.id)
            )
        ).scalar_one_or_none()
        if period is not None:
            subscription = await session.get(Subscription, period.subscription_id)
            period_view = PeriodView(
                days=period.days,
                starts_at=period.starts_at,
                ends_at=period.ends_at,
                subscription_status=subscription.status if subscription else None,
                subscription_expires_at=subscription.expires_at if subscription else None,
            )
        return PaymentDetails(
            payment=PaymentView(
                id=payment.id,
                provider_id=payment.provider_id,
                kind=payment.kind,
                status=payment.status,
                cancel_reason=payment.cancel_reason,
                user_id=payment.user_id,
                user_name=display_name(user, payment.user_id),
                order_id=payment.order_id,
                plan_code=payment.plan_code,
                cohort=payment.cohort,
                amount=payment.amount,
                refunded_amount=payment.refunded_amount,
                is_test=payment.is_test,
                description=payment.description,
                customer_email=payment.customer_email,
                created_at=payment.created_at,
                captured_at=payment.captured_at,
            ),
            events=tuple(
                EventView(e.created_at, e.source, e.event, e.status_before, e.status_after)
                for e in events[-EVENTS_SHOWN:]
            ),
            events_total=len(events),
            tickets=tuple(
                TicketLine(
                    t.code, t.ticket_type, t.visit_date, t.slot_time, t.status, t.checked_in_at
                )
                for t in tickets
            ),
            period=period_view,
            refunds=tuple(
                RefundView(r.id, r.amount, r.status, r.provider_id, r.requested_by, r.created_at)
                for r in refunds
            ),
            audit=tuple(
                AuditView(a.created_at, a.admin_id, a.action, a.result) for a in audit_rows
            ),
            renewal=await renewal_of(session, payment),
        )
