"""Auto-renewal consent: recorded with the payment that asks to save the method, kept only
when YooKassa saved it, and turned off (or on again, or the card forgotten) in one step.

Turning it off is one conditional UPDATE; the renewal sweep claims a charge with an UPDATE
that requires auto-renewal still on, so whichever commits first wins and a charge not yet
sent never goes out after the customer said stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment
from db.models_subscriptions import Renewal, RenewalConsent, Subscription
from payments.ports import Clock
from payments.types import ProviderMethod, ProviderPayment

# The extra key of a payment made with consent: {"consent_id": ..}.
CONSENT_KEY = "auto_renew"
CHANNELS = ("bot", "miniapp", "api")
# Renewals not yet sent: turning auto-renewal off stops them.
UNSENT = ("scheduled", "retry")


@dataclass(frozen=True, slots=True)
class AutoRenewConsent:
    """What the customer agreed to on the plan screen: which terms text, where."""

    text_version: str
    channel: str = "bot"

    def __post_init__(self) -> None:
        """Refuse a channel we do not know."""
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}")


@dataclass(frozen=True, slots=True)
class AutoRenewState:
    """A subscription's auto-renewal as /my and the Mini App show it."""

    auto_renew: bool
    method_title: str | None
    renewal_state: str | None


def method_title(method: ProviderMethod) -> str:
    """ "Карта *4444" for a card, else YooKassa's title; nothing more of the card is kept."""
    if method.card_last4:
        return f"Карта *{method.card_last4}"
    return (method.title or method.type)[:64]


def record_consent(
    session: AsyncSession,
    payment: Payment,
    consent: AutoRenewConsent,
    *,
    days: int,
    now: datetime,
) -> RenewalConsent:
    """Store the consent given with a plan payment and mark the payment as made with it."""
    row = RenewalConsent(
        user_id=payment.user_id,
        payment_id=payment.id,
        text_version=consent.text_version,
        channel=consent.channel,
        plan_code=payment.plan_code or "",
        amount=payment.amount,
        days=days,
        given_at=now,
    )
    session.add(row)
    payment.extra = {**(payment.extra or {}), CONSENT_KEY: True}
    return row


async def keep_saved_method(
    session: AsyncSession, payment: Payment, remote: ProviderPayment, *, now: datetime
) -> bool:
    """After a paid consented payment: keep its method if YooKassa saved it; return whether.

    Called inside fulfilment's transaction, after the period was added (the row exists).
    """
    if not (payment.extra or {}).get(CONSENT_KEY):
        return False
    saved = remote.saved_method
    if saved is None:
        return False
    subscription = await _subscription_of(session, payment.user_id)
    if subscription is None:
        return False
    await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription)
        .values(
            auto_renew=True,
            renew_method_id=saved.id,
            renew_method_title=method_title(saved),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(RenewalConsent)
        .where(RenewalConsent.payment_id == payment.id)
        .values(subscription_id=subscription)
        .execution_options(synchronize_session=False)
    )
    return True


async def _subscription_of(session: AsyncSession, user_id: str) -> int | None:
    result = await session.execute(select(Subscription.id).where(Subscription.user_id == user_id))
    return result.scalar_one_or_none()


async def turn_off(session: AsyncSession, user_id: str, *, now: datetime) -> bool:
    """Turn auto-renewal off (the current period is kept); return whether it was on.

    Renewals not yet sent are stopped in the same transaction.
    """
    result = await session.execute(
        update(Subscription)
        .where(Subscription.user_id == user_id, Subscription.auto_renew.is_(True))
        .values(auto_renew=False, updated_at=now)
        .returning(Subscription.id)
        .execution_options(synchronize_session=False)
    )
    subscription = result.scalar_one_or_none()
    if subscription is None:
        return False
    await stop_unsent(session, subscription, now=now, reason="turned_off")
    await session.execute(
        update(RenewalConsent)
        .where(RenewalConsent.user_id == user_id, RenewalConsent.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


async def stop_unsent(
    session: AsyncSession, subscription_id: int, *, now: datetime, reason: str
) -> None:
    """Stop the renewals of a subscription that have not been sent to YooKassa."""
    await session.execute(
        update(Renewal)
        .where(Renewal.subscription_id == subscription_id, Renewal.status.in_(UNSENT))
        .values(status="stopped", last_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )


class AutoRenewal:
    """The customer's switches: turn off, turn back on (with the saved card), forget the card."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        """Keep the collaborators."""
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def state(self, user_id: str) -> AutoRenewState | None:
        """Return the auto-renewal of a user's subscription, if they have one."""
        async with self._sessionmaker() as session:
            result = await session.execute(
                select(
                    Subscription.auto_renew,
                    Subscription.renew_method_title,
                    Subscription.renewal_state,
                ).where(Subscription.user_id == user_id)
            )
            row = result.one_or_none()
        return AutoRenewState(bool(row[0]), row[1], row[2]) if row else None

    async def turn_off(self, user_id: str) -> bool:
        """Turn auto-renewal off now; a charge not yet sent will not be sent."""
        async with self._sessionmaker.begin() as session:
            return await turn_off(session, user_id, now=self._clock.now())

    async def turn_on(
        self, user_id: str, consent: AutoRenewConsent, *, amount: Decimal, days: int
    ) -> bool:
        """Turn auto-renewal back on with the saved method, recording the terms shown again.

        Returns False when there is no saved method (the customer pays with consent instead).
        """
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            result = await session.execute(
                update(Subscription)
                .where(
                    Subscription.user_id == user_id,
                    Subscription.renew_method_id.is_not(None),
                    Subscription.auto_renew.is_(False),
                )
                .values(auto_renew=True, updated_at=now)
                .returning(Subscription.id, Subscription.plan_code)
                .execution_options(synchronize_session=False)
            )
            row = result.one_or_none()
            if row is None:
                return False
            session.add(
                RenewalConsent(
                    user_id=user_id,
                    subscription_id=row.id,
                    text_version=consent.text_version,
                    channel=consent.channel,
                    plan_code=row.plan_code,
                    amount=amount,
                    days=days,
                    given_at=now,
                )
            )
        return True

    async def forget_method(self, user_id: str) -> bool:
        """Forget the saved card (auto-renewal goes off with it); return whether one was kept."""
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            await turn_off(session, user_id, now=now)
            result = await session.execute(
                update(Subscription)
                .where(Subscription.user_id == user_id, Subscription.renew_method_id.is_not(None))
                .values(renew_method_id=None, renew_method_title=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def consent_detail(consent: AutoRenewConsent) -> dict[str, Any]:
    """What the payment's "created" event says about the consent."""
    return {"auto_renew": True, "terms": consent.text_version, "channel": consent.channel}
