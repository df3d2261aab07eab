"""Auto-renewal as the admin sees it: the /stats block and a renewal's attempts.

Every figure is one aggregate query (no loops over rows). Roubles only: renewals are charged
through YooKassa in RUB; Stars (XTR) renew inside Telegram and stay out of rouble sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Executable, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment
from db.models_subscriptions import Renewal, RenewalConsent, Subscription
from payments.money import ZERO
from payments.subscriptions.outcomes import RENEWAL_KEY, UNUSABLE
from payments.types import PaymentStatus

DUE_WITHIN = timedelta(days=7)
SETTLED = (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED)


@dataclass(frozen=True, slots=True)
class RenewalFigures:
    """Auto-renewal now (on, due in 7 days) and over the stats period (attempts, churn)."""

    auto_renewing: int
    due_count: int
    due_sum: Decimal
    attempts_paid: int
    attempts_settled: int
    involuntary_churn: int
    voluntary_churn: int

    @property
    def success_rate(self) -> Decimal | None:
        """Paid attempts per settled attempt, in per cent (None when nothing settled)."""
        if not self.attempts_settled:
            return None
        rate = Decimal(self.attempts_paid * 100) / Decimal(self.attempts_settled)
        return rate.quantize(Decimal("0.1"))


@dataclass(frozen=True, slots=True)
class AttemptView:
    """One payment of a renewal: a charge of the saved card (numbered) or a payment by link."""

    number: int | None
    payment_id: str
    at: datetime
    status: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class RenewalView:
    """One renewal (one period of one subscription) and its attempts."""

    id: int
    key: str
    period_start: datetime
    plan_code: str
    days: int
    amount: Decimal
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_reason: str | None
    tries: tuple[AttemptView, ...]


def renewal_of_payment() -> ColumnElement[Any]:
    """The renewal id a payment's metadata names, as an SQL integer (None if it has none)."""
    value: ColumnElement[Any] = Payment.extra[RENEWAL_KEY].as_integer()
    return value


def _real_subscriptions(test_ids: frozenset[str]) -> list[ColumnElement[bool]]:
    """Conditions that leave test users' subscriptions out (as the active count does)."""
    conditions: list[ColumnElement[bool]] = [~Subscription.user_id.ilike("%test%")]
    if test_ids:
        conditions.append(Subscription.user_id.not_in(test_ids))
    return conditions


def renewal_statements(
    *, now: datetime, since: datetime, test_ids: frozenset[str]
) -> tuple[Executable, ...]:
    """The five aggregates of the auto-renewal block of /stats (period `since` to `now`).

    Run them with `Reader.report` (off the loop on SQLite) and hand the rows to
    `renewal_figures_of`.
    """
    real = _real_subscriptions(test_ids)
    auto_renewing = select(func.count(Subscription.id)).where(
        Subscription.auto_renew.is_(True),
        Subscription.renew_method_id.is_not(None),
        Subscription.status == "active",
        *real,
    )

    # What the coming charge will be: the renewal's quoted price once the notice wrote it,
    # else the price the customer last agreed to.
    quoted = (
        select(Renewal.amount)
        .where(
            Renewal.subscription_id == Subscription.id,
            Renewal.period_start == Subscription.expires_at,
        )
        .limit(1)
        .scalar_subquery()
    )
    agreed = (
        select(RenewalConsent.amount)
        .where(RenewalConsent.user_id == Subscription.user_id, RenewalConsent.revoked_at.is_(None))
        .order_by(RenewalConsent.given_at.desc(), RenewalConsent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    due = select(func.count(Subscription.id), func.sum(func.coalesce(quoted, agreed))).where(
        Subscription.auto_renew.is_(True),
        Subscription.renew_method_id.is_not(None),
        Subscription.status == "active",
        Subscription.expires_at > now,
        Subscription.expires_at <= now + DUE_WITHIN,
        *real,
    )

    settled_at = func.coalesce(Payment.captured_at, Payment.updated_at)
    attempts = select(
        func.count(Payment.id).filter(Payment.status == PaymentStatus.SUCCEEDED),
        func.count(Payment.id),
    ).where(
        renewal_of_payment().is_not(None),
        Payment.currency == "RUB",
        Payment.is_test.is_(False),
        Payment.status.in_(SETTLED),
        settled_at >= since,
    )

    involuntary = select(func.count(Subscription.id)).where(
        Subscription.renewal_state == "lapsed",
        Subscription.status == "expired",
        Subscription.updated_at >= since,
        *real,
    )

    # Consents revoked in the period, less those a card that can no longer be charged
    # revoked (the decline that did so is written in the same transaction, same moment).
    by_decline = exists().where(
        Renewal.user_id == RenewalConsent.user_id,
        Renewal.status == "stopped",
        Renewal.last_reason.in_(sorted(UNUSABLE)),
        Renewal.updated_at == RenewalConsent.revoked_at,
    )
    voluntary = select(func.count(distinct(RenewalConsent.user_id))).where(
        RenewalConsent.revoked_at >= since,
        RenewalConsent.revoked_at <= now,
        ~by_decline,
        ~RenewalConsent.user_id.ilike("%test%"),
        *([RenewalConsent.user_id.not_in(test_ids)] if test_ids else []),
    )
    return auto_renewing, due, attempts, involuntary, voluntary


def renewal_figures_of(results: Sequence[Sequence[Any]]) -> RenewalFigures:
    """Assemble the block from the rows of `renewal_statements`, in their order."""
    auto_renewing, due, attempts, involuntary, voluntary = (rows[0] for rows in results)
    due_count, due_sum = due
    paid, settled = attempts
    return RenewalFigures(
        auto_renewing=int(auto_renewing[0]),
        due_count=int(due_count or 0),
        due_sum=Decimal(due_sum).quantize(Decimal("0.01")) if due_sum is not None else ZERO,
        attempts_paid=int(paid or 0),
        attempts_settled=int(settled or 0),
        involuntary_churn=int(involuntary[0]),
        voluntary_churn=int(voluntary[0]),
    )


def _attempt_number(key: str, idempotence_key: str) -> int | None:
    """The sweep's charges carry `<renewal key>-<attempt>`; a payment by link has no number."""
    prefix = f"{key}-"
    if idempotence_key.startswith(prefix) and idempotence_key[len(prefix) :].isdigit():
        return int(idempotence_key[len(prefix) :])
    return None


async def renewals_with_attempts(
    session: AsyncSession, renewals: list[Renewal]
) -> tuple[RenewalView, ...]:
    """Return renewals with the payments of each (one query for all of them), oldest first."""
    if not renewals:
        return ()
    ids = [r.id for r in renewals]
    rows = (
        await session.execute(
            select(
                renewal_of_payment().label("renewal_id"),
                Payment.id,
                Payment.idempotence_key,
                Payment.created_at,
                Payment.captured_at,
                Payment.status,
                Payment.cancel_reason,
            )
            .where(
                or_(
                    renewal_of_payment().in_(ids),
                    Payment.id.in_([r.payment_id for r in renewals if r.payment_id]),
                )
            )
            .order_by(Payment.created_at, Payment.id)
        )
    ).all()
    by_payment = {r.payment_id: r.id for r in renewals if r.payment_id}
    tries: dict[int, list[AttemptView]] = {rid: [] for rid in ids}
    keys = {r.id: r.key for r in renewals}
    for renewal_id, pid, idem, created, captured, status, reason in rows:
        owner = int(renewal_id) if renewal_id is not None else by_payment.get(pid)
        if owner not in tries:
            continue
        tries[owner].append(
            AttemptView(
                number=_attempt_number(keys[owner], idem),
                payment_id=pid,
                at=captured or created,
                status=status,
                reason=reason,
            )
        )
    return tuple(
        RenewalView(
            id=r.id,
            key=r.key,
            period_start=r.period_start,
            plan_code=r.plan_code,
            days=r.days,
            amount=r.amount,
            status=r.status,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at if r.status in ("scheduled", "retry") else None,
            last_reason=r.last_reason,
            tries=tuple(tries[r.id]),
        )
        for r in sorted(renewals, key=lambda r: (r.period_start, r.id))
    )


async def renewal_of(session: AsyncSession, payment: Payment) -> RenewalView | None:
    """The renewal a payment belongs to (its metadata, or the renewal's latest payment)."""
    renewal_id = (payment.extra or {}).get(RENEWAL_KEY)
    condition = (
        Renewal.id == int(renewal_id)
        if renewal_id is not None
        else Renewal.payment_id == payment.id
    )
    row = (await session.execute(select(Renewal).where(condition))).scalars().first()
    if row is None:
        return None
    [view] = await renewals_with_attempts(session, [row])
    return view
