"""/refund asks first: what a refund will do, confirmed once, then made by `Refunds.refund`.

A draft is an audit row (action `refund_draft`) whose `result` is its state, moved by one
conditional UPDATE: awaiting confirmation → confirmed, or → canceled. So a double tap, two
admins or two instances confirm it once. The draft keeps what the preview saw (the amount and
what was refunded by then): a payment refunded meanwhile is refused at confirmation rather than
refunded again (`Refunds.refund`'s `expect_refunded`, checked in the reserving UPDATE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, Payment, User
from db.models_subscriptions import Subscription, SubscriptionPeriod
from db.repositories import audit as audit_repo
from db.repositories import refunds as refunds_repo
from db.repositories import tickets as tickets_repo
from payments.admin import audit
from payments.admin.refunds import RefundResult, Refunds
from payments.admin.results import Refusal, display_name
from payments.admin.settlement import removed_days
from payments.money import parse_money, wire
from payments.ports import Clock
from payments.types import PaymentKind, TicketStatus

DRAFT_ACTION = "refund_draft"
AWAITING = "awaiting confirmation"
CONFIRMED = "confirmed"
CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class TicketsEffect:
    """What a refund does to an order's tickets and seats."""

    total: int
    voided: int
    used: int
    seats_returned: int
    visit_date: date
    slot_time: str
    slot_started: bool


@dataclass(frozen=True, slots=True)
class SubscriptionEffect:
    """What a refund does to the subscription a payment paid for."""

    days_removed: int
    expires_at: datetime
    ends: bool
    running: bool


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """A refund awaiting the admin's confirmation: the payment, the amount, what it will do."""

    draft_id: int
    payment_id: str
    order_id: str | None
    provider_id: str | None
    kind: str
    user_id: str
    user_name: str
    amount: Decimal
    payment_amount: Decimal
    refunded_before: Decimal  # by earlier refunds, this one's retry not counted
    retry: bool
    full: bool
    tickets: TicketsEffect | None
    subscription: SubscriptionEffect | None


@dataclass(frozen=True, slots=True)
class ConfirmedRefund:
    """A draft the admin confirmed: the refund to make, and what was refunded when previewed."""

    draft_id: int
    payment_id: str
    amount: Decimal
    refunded: Decimal


class RefundDrafts:
    """Preview a refund, then make it on confirmation, once; or drop it."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        refunds: Refunds,
        clock: Clock,
        tz: ZoneInfo,
    ) -> None:
        """Keep the collaborators; `tz` says whether a slot has started."""
        self._sessionmaker = sessionmaker
        self._refunds = refunds
        self._clock = clock
        self._tz = tz

    async def draft(self, admin_id: int, query: str, amount: Decimal | None = None) -> RefundPlan:
        """Say what refunding `query` (all that is left, or `amount`) will do; move no money."""
        args: dict[str, Any] = {"query": query, "amount": wire(amount) if amount else None}
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            checked = await self._refunds.check(session, query, amount, now)
            if not isinstance(checked, Refusal):
                payment = checked.payment
                args.update(
                    payment_id=payment.id,
                    want=wire(checked.amount),
                    refunded=wire(payment.refunded_amount),
                )
                draft_id = await audit.record(
                    self._sessionmaker,
                    self._clock,
                    admin_id,
                    DRAFT_ACTION,
                    payment.id,
                    args,
                    AWAITING,
                    session,
                )
                retry = checked.waiting is not None
                plan = await self._plan(session, draft_id, payment, checked.amount, retry, now)
        if isinstance(checked, Refusal):
            await audit.refuse(
                self._sessionmaker, self._clock, admin_id, "refund", query[:64], args, checked
            )
        return plan

    async def confirm(self, admin_id: int, draft_id: int) -> RefundResult:
        """Make the refund a draft describes, once; refuse it if the payment changed since."""
        return await self.make(admin_id, await self.take(admin_id, draft_id))

    async def take(self, admin_id: int, draft_id: int) -> ConfirmedRefund:
        """Mark a draft confirmed (one UPDATE: a second tap is refused) and return it."""
        entry = await self._move(admin_id, draft_id, CONFIRMED)
        if entry is None:
            raise Refusal("refund_draft_gone", f"refund draft {draft_id} is not awaiting")
        return ConfirmedRefund(
            draft_id,
            str(entry["payment_id"]),
            parse_money(str(entry["want"])),
            parse_money(str(entry["refunded"])),
        )

    async def make(self, admin_id: int, confirmed: ConfirmedRefund) -> RefundResult:
        """Make a confirmed refund, unless the payment's refunds changed since its preview."""
        return await self._refunds.refund(
            admin_id,
            confirmed.payment_id,
            confirmed.amount,
            expect_refunded=confirmed.refunded,
        )

    async def cancel(self, admin_id: int, draft_id: int) -> tuple[str, Decimal]:
        """Drop a draft; return its payment id and amount. Refused if it is not awaiting."""
        entry = await self._move(admin_id, draft_id, CANCELED)
        if entry is None:
            raise Refusal("refund_draft_gone", f"refund draft {draft_id} is not awaiting")
        return str(entry["payment_id"]), parse_money(str(entry["want"]))

    async def _move(self, admin_id: int, draft_id: int, to: str) -> dict[str, Any] | None:
        """Move a draft awaiting confirmation to `to` (one UPDATE); return its args if it moved."""
        async with self._sessionmaker.begin() as session:
            moved = await audit_repo.move_result(
                session, draft_id, action=DRAFT_ACTION, from_results=(AWAITING,), to=to
            )
            entry = await audit_repo.get_entry(session, draft_id)
            await audit.record(
                self._sessionmaker,
                self._clock,
                admin_id,
                f"refund_{'confirm' if to == CONFIRMED else 'cancel'}",
                entry.target if entry else None,
                {"draft": draft_id},
                "done" if moved else "refused: not awaiting confirmation",
                session,
            )
        return dict(entry.args) if moved and entry is not None else None

    async def _plan(
        self,
        session: AsyncSession,
        draft_id: int,
        payment: Payment,
        amount: Decimal,
        retry: bool,
        now: datetime,
    ) -> RefundPlan:
        """Describe a draft: the payment, the amount and what the refund will do."""
        # A retried refund is already counted in refunded_amount (it was reserved).
        after = payment.refunded_amount + (Decimal(0) if retry else amount)
        full = after >= payment.amount
        user = await session.get(User, payment.user_id)
        tickets = None
        subscription = None
        if payment.kind == PaymentKind.TICKETS and payment.order_id is not None:
            tickets = await self._tickets_effect(session, payment, full, now)
        elif payment.kind == PaymentKind.SUBSCRIPTION:
            subscription = await self._subscription_effect(session, payment, amount, now)
        return RefundPlan(
            draft_id=draft_id,
            payment_id=payment.id,
            order_id=payment.order_id,
            provider_id=payment.provider_id,
            kind=payment.kind,
            user_id=payment.user_id,
            user_name=display_name(user, payment.user_id),
            amount=amount,
            payment_amount=payment.amount,
            refunded_before=payment.refunded_amount - (amount if retry else Decimal(0)),
            retry=retry,
            full=full,
            tickets=tickets,
            subscription=subscription,
        )

    async def _tickets_effect(
        self, session: AsyncSession, payment: Payment, full: bool, now: datetime
    ) -> TicketsEffect | None:
        """Tickets of a full refund are voided (used ones stay); seats return if not started."""
        order = await session.get(Order, payment.order_id)
        if order is None:
            return None
        tickets = await tickets_repo.of_payment(session, payment.id)
        valid = sum(1 for t in tickets if t.status == TicketStatus.VALID)
        used = sum(1 for t in tickets if t.status == TicketStatus.USED)
        start = datetime.combine(
            order.visit_date, day_time.fromisoformat(order.slot_time), tzinfo=self._tz
        )
        started = start <= now
        voided = valid if full else 0
        return TicketsEffect(
            total=len(tickets),
            voided=voided,
            used=used,
            seats_returned=voided if order.seats_held and not started else 0,
            visit_date=order.visit_date,
            slot_time=order.slot_time,
            slot_started=started,
        )

    async def _subscription_effect(
        self, session: AsyncSession, payment: Payment, amount: Decimal, now: datetime
    ) -> SubscriptionEffect | None:
        """The days a refund takes off the subscription, as payments/admin/settlement.py does."""
        period = (
            await session.execute(
                select(SubscriptionPeriod).where(SubscriptionPeriod.payment_id == payment.id)
            )
        ).scalar_one_or_none()
        if period is None:
            return None
        subscription = await session.get(Subscription, period.subscription_id)
        if subscription is None:
            return None
        before = await refunds_repo.applied_total(session, payment.id)
        removed = removed_days(period.days, before + amount, payment.amount) - removed_days(
            period.days, before, payment.amount
        )
        running = subscription.status == "active" and subscription.expires_at > now
        if removed <= 0 or not running:
            return SubscriptionEffect(0, subscription.expires_at, False, running)
        new = max(subscription.expires_at - timedelta(days=removed), now, subscription.starts_at)
        return SubscriptionEffect(removed, new, new <= now, running)
