"""What a renewal payment's end does, inside fulfilment's transaction (exactly once).

Fulfilment moves a payment with one conditional UPDATE and runs these only when it moved it,
so the webhook, the reconciler and the renewal sweep cannot apply one outcome twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment
from db.models_subscriptions import Renewal, RenewalConsent, Subscription
from payments.ports import Recipient, RenewalFailed

# The extra key of a payment that pays a renewal (charged by the sweep, or by hand by link).
RENEWAL_KEY = "renewal_id"
# Cancellation reasons after which the saved method cannot be charged again: auto-renewal
# goes off at once (yookassa.md §6).
UNUSABLE = frozenset({"permission_revoked", "card_expired", "payment_method_restricted"})


@dataclass(frozen=True, slots=True)
class RenewalPolicy:
    """Retries after a declined renewal (days after the first decline) and the grace."""

    retry_days: tuple[int, ...] = (1, 3, 5)
    grace: timedelta = timedelta(days=3)


def renewal_id_of(payment: Payment) -> int | None:
    """Return the renewal a payment pays, if any."""
    value = (payment.extra or {}).get(RENEWAL_KEY)
    return int(value) if value is not None else None


async def renewal_paid(
    session: AsyncSession, payment: Payment, *, now: datetime
) -> datetime | None:
    """Mark the renewal a succeeded payment pays as done; return the expiry it continues.

    Stops its other attempts: a retry not yet sent will not be sent.
    """
    renewal_id = renewal_id_of(payment)
    if renewal_id is None:
        return None
    result = await session.execute(
        update(Renewal)
        .where(Renewal.id == renewal_id, Renewal.status != "succeeded")
        .values(status="succeeded", payment_id=payment.id, updated_at=now)
        .returning(Renewal.period_start)
        .execution_options(synchronize_session=False)
    )
    started = result.scalar_one_or_none()
    if started is None:  # paid twice (a retry and the link): the second buys its own period
        return None
    return started


async def renewal_declined(
    session: AsyncSession,
    payment: Payment,
    reason: str,
    recipient: Recipient,
    *,
    now: datetime,
    policy: RenewalPolicy,
) -> RenewalFailed | None:
    """Record a declined renewal charge: schedule the retry, keep access through the grace.

    Only the charge the sweep sent counts as an attempt; a declined pay-by-link payment leaves
    the renewal as it was. A method that cannot be charged any more turns auto-renewal off.
    """
    renewal_id = renewal_id_of(payment)
    if renewal_id is None:
        return None
    row = (
        await session.execute(
            select(Renewal).where(
                Renewal.id == renewal_id,
                Renewal.payment_id == payment.id,
                Renewal.status == "charging",
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    first_failed = row.first_failed_at or now
    unusable = reason in UNUSABLE
    next_at: datetime | None = None
    if unusable:
        status = "stopped"
    elif row.attempts <= len(policy.retry_days):
        status = "retry"
        next_at = first_failed + timedelta(days=policy.retry_days[row.attempts - 1])
    else:
        status = "failed"
    moved = await session.execute(
        update(Renewal)
        .where(Renewal.id == row.id, Renewal.status == "charging", Renewal.payment_id == payment.id)
        .values(
            status=status,
            first_failed_at=first_failed,
            next_attempt_at=next_at or row.next_attempt_at,
            last_reason=reason[:64],
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    grace_until = row.period_start + policy.grace
    values: dict[str, object] = {"renewal_state": "retrying", "updated_at": now}
    if unusable:
        values.update(auto_renew=False, renew_method_id=None, renew_method_title=None)
    await session.execute(
        update(Subscription)
        .where(Subscription.id == row.subscription_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    # Access is kept through the grace only while the period being renewed is the current one.
    await session.execute(
        update(Subscription)
        .where(
            Subscription.id == row.subscription_id,
            Subscription.expires_at == row.period_start,
            Subscription.grace_until.is_(None),
        )
        .values(grace_until=grace_until)
        .execution_options(synchronize_session=False)
    )
    if unusable:
        await session.execute(
            update(RenewalConsent)
            .where(RenewalConsent.user_id == row.user_id, RenewalConsent.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    return RenewalFailed(
        recipient=recipient,
        renewal_id=row.id,
        plan_code=row.plan_code,
        amount=row.amount,
        reason=reason,
        next_attempt_at=next_at,
        auto_renew_off=unusable,
        grace_until=grace_until,
    )
