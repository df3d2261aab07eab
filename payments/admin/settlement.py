"""Applying a refund as YooKassa reports it, once, whoever sees it succeed first: the admin's
/refund or the `refund.succeeded` notification (payments/yookassa/webhook.py's `RefundApplier`).

* A refund is *applied* once (`refunds.applied_at` set by a conditional UPDATE). A succeeded
  refund nobody here asked for (made in YooKassa's dashboard) is recorded and applied like ours.
* Tickets: a partial refund is a goodwill amount. The tickets stay valid and the seats stay
  taken, because money alone does not say which visitor stays at home (and test orders cost
  10.00 whatever they hold). When the refunds of an order reach its full amount, every ticket
  still valid becomes `refunded` (a ticket already used stays `used`: that visit happened) and,
  if the slot has not started yet, their seats go back to the slot.
* Subscriptions are shortened pro rata to the money returned: the days a payment bought times
  the share refunded, rounded half up, counted cumulatively so partial refunds never drift:
  `removed(total) = round(days × refunded_total / amount)` and each refund removes
  `removed(after) − removed(before)` days from the end of the subscription, never before now
  (a subscription cut back to now ends at once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from datetime import time as day_time
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, Payment, Refund, User
from db.models_subscriptions import Subscription, SubscriptionPeriod
from db.repositories import inventory
from db.repositories import payments as payments_repo
from db.repositories import refunds as refunds_repo
from db.repositories import tickets as tickets_repo
from payments.money import wire
from payments.outbox.notes import enqueue_note
from payments.ports import Clock, Recipient, RefundMade
from payments.types import PaymentKind, ProviderRefund

log = logging.getLogger(__name__)


class RefundOutcome(StrEnum):
    """What applying a YooKassa refund did."""

    APPLIED = "applied"
    CANCELED = "canceled"
    PENDING = "pending"
    ALREADY = "already"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RefundApplied:
    """The result of `apply_refund`."""

    outcome: RefundOutcome
    refund_id: int | None = None
    payment_id: str | None = None


def removed_days(days: int, refunded: Decimal, amount: Decimal) -> int:
    """Return the days a refund of `refunded` out of `amount` takes from `days` (half up)."""
    if amount <= 0 or refunded <= 0:
        return 0
    share = min(refunded, amount) / amount
    return int((Decimal(days) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class RefundSettlement:
    """Apply refunds fetched from YooKassa: tickets, seats, subscription days, the customer."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        tz: ZoneInfo,
        wake: Callable[[], None] | None = None,
    ) -> None:
        """Keep the collaborators; `tz` says whether a slot has started.

        `wake` tells the sending lane after commit that the customer's message waits.
        """
        self._sessionmaker = sessionmaker
        self._wake = wake
        self._clock = clock
        self._tz = tz

    async def apply_refund(
        self, remote: ProviderRefund, *, source: str, refund_id: int | None = None
    ) -> RefundApplied:
        """Apply a refund as fetched from YooKassa, once; the webhook calls this too.

        Our row is found by YooKassa's refund id, else it is the row `refund_id` (the admin
        flow), else our unanswered row of that payment and amount (a notification that beat
        the admin flow). A succeeded refund nobody here asked for (made in YooKassa's dashboard)
        is recorded and applied like ours.
        """
        now = self._clock.now()
        note: RefundMade | None = None
        async with self._sessionmaker.begin() as session:
            row = await self._claim(session, remote, refund_id, now)
            if row is None:
                outcome = RefundOutcome.UNKNOWN
            elif remote.status == "succeeded":
                if await refunds_repo.settle(session, row.id, now):
                    note = await self._refund_effects(session, row, source, now)
                    await enqueue_note(session, note, dedupe_key=str(row.id))
                    outcome = RefundOutcome.APPLIED
                else:
                    outcome = RefundOutcome.ALREADY
            elif remote.status == "canceled":
                outcome = RefundOutcome.ALREADY
                if await refunds_repo.cancel(session, row.id):
                    await refunds_repo.unreserve(session, row.payment_id, row.amount)
                    outcome = RefundOutcome.CANCELED
                    payments_repo.add_event(
                        session,
                        payment_id=row.payment_id,
                        provider_id=remote.payment_id,
                        source=source,
                        event="refund_canceled",
                        detail={"refund": row.id, "amount": wire(row.amount)},
                        at=now,
                    )
            else:
                outcome = RefundOutcome.PENDING
        if row is None:
            log.info("refund %s of YooKassa payment %s is not ours", remote.id, remote.payment_id)
            return RefundApplied(RefundOutcome.UNKNOWN)
        if note is not None:
            log.info("refund #%s of %s applied (%s)", row.id, row.payment_id, source)
            if self._wake is not None:
                self._wake()
        return RefundApplied(outcome, row.id, row.payment_id)

    @staticmethod
    async def _claim(
        session: AsyncSession, remote: ProviderRefund, refund_id: int | None, now: datetime
    ) -> Refund | None:
        row = await refunds_repo.by_provider_id(session, remote.id)
        if row is not None:
            return row
        if refund_id is not None:
            if await refunds_repo.claim(session, refund_id, remote.id):
                return await refunds_repo.get_refund(session, refund_id)
            log.error("refund #%s is tied to another YooKassa refund than %s", refund_id, remote.id)
            return None
        payment = await payments_repo.get_by_provider_id(session, remote.payment_id)
        if payment is None:
            return None
        row = await refunds_repo.claim_matching(session, payment.id, remote.amount, remote.id)
        if row is not None or remote.status != "succeeded":
            return row
        if not await refunds_repo.reserve(session, payment.id, remote.amount):
            log.error(
                "YooKassa refund %s of %s exceeds what is left of payment %s; not applied",
                remote.id,
                wire(remote.amount),
                payment.id,
            )
            return None
        row = Refund(
            payment_id=payment.id,
            provider_id=remote.id,
            idempotence_key=f"external-{remote.id}"[:64],
            amount=remote.amount,
            status="pending",
            requested_by=None,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        log.warning(
            "refund %s of payment %s was made outside the bot; recorded", remote.id, payment.id
        )
        return row

    async def _refund_effects(
        self, session: AsyncSession, row: Refund, source: str, now: datetime
    ) -> RefundMade:
        """Mark tickets, return seats or shorten the subscription for an applied refund."""
        payment = await payments_repo.get_payment(session, row.payment_id)
        assert payment is not None  # noqa: S101 - refunds belong to payments
        await session.refresh(payment)
        applied = await refunds_repo.applied_total(session, payment.id)
        full = applied >= payment.amount
        user = await session.get(User, payment.user_id)
        recipient = Recipient(payment.user_id, user.language if user else "ru")
        detail: dict[str, Any] = {
            "refund": row.id,
            "amount": wire(row.amount),
            "applied_total": wire(applied),
            "full": full,
        }
        note = RefundMade(
            recipient, payment.id, payment.kind, row.amount, full, currency=payment.currency
        )
        if payment.kind == PaymentKind.TICKETS and payment.order_id is not None:
            count = await tickets_repo.refund_valid(session, payment.id) if full else 0
            released = 0
            if full and await tickets_repo.close_refunded_order(session, payment.order_id):
                order = await session.get(Order, payment.order_id)
                if order is not None and count and self._slot_ahead(order, now):
                    if await inventory.release_seats(
                        session, order.visit_date, order.slot_time, count
                    ):
                        released = count
                    else:
                        log.warning("order %s: seats to release were not held", order.id)
            detail.update(tickets_refunded=count, seats_released=released)
            note = replace(note, order_id=payment.order_id, tickets_refunded=count)
        elif payment.kind == PaymentKind.SUBSCRIPTION:
            expires_at, ended, removed = await self._shorten(
                session, payment, applied - row.amount, applied, now
            )
            detail.update(days_removed=removed)
            note = replace(note, expires_at=expires_at, subscription_ended=ended)
        payments_repo.add_event(
            session,
            payment_id=payment.id,
            provider_id=row.provider_id,
            source=source,
            event="refund_succeeded",
            status_before=payment.status,
            status_after=payment.status,
            detail=detail,
            at=now,
        )
        return note

    def _slot_ahead(self, order: Order, now: datetime) -> bool:
        start = datetime.combine(
            order.visit_date, day_time.fromisoformat(order.slot_time), tzinfo=self._tz
        )
        return start > now

    @staticmethod
    async def _shorten(
        session: AsyncSession,
        payment: Payment,
        before: Decimal,
        after: Decimal,
        now: datetime,
    ) -> tuple[datetime | None, bool, int]:
        """Take the refunded share of a payment's days off the end of the subscription."""
        period = (
            await session.execute(
                select(SubscriptionPeriod).where(SubscriptionPeriod.payment_id == payment.id)
            )
        ).scalar_one_or_none()
        if period is None:
            return None, False, 0
        subscription = (
            await session.execute(
                select(Subscription)
                .where(Subscription.id == period.subscription_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if subscription is None:
            return None, False, 0
        removed = removed_days(period.days, after, payment.amount) - removed_days(
            period.days, before, payment.amount
        )
        running = subscription.status == "active" and subscription.expires_at > now
        if removed <= 0 or not running:
            return subscription.expires_at, not running, 0
        old = subscription.expires_at
        new = max(old - timedelta(days=removed), now, subscription.starts_at)
        ended = new <= now
        await session.execute(
            update(Subscription)
            .where(Subscription.id == subscription.id, Subscription.expires_at == old)
            .values(expires_at=new, status="expired" if ended else "active", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return new, ended, removed
