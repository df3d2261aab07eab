"""The subscription tables: subscriptions, the periods that extend them, auto-renewal (the
customers' consents and the charges of each period), and the admins' cohort prices of the plans.

Registered on the same metadata as db/models.py (which imports this module); kept apart so
neither module grows past the house limit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Money, UTCDateTime, one_of, utcnow

SUBSCRIPTION_STATUSES = ("active", "expired")
# A renewal of one period: waiting for its time, being charged, waiting for a retry, paid,
# given up (retries exhausted), stopped (auto-renewal turned off, or the card unusable), or
# superseded (the period was bought meanwhile, by hand or with a new card).
RENEWAL_STATUSES = (
    "scheduled",
    "charging",
    "retry",
    "succeeded",
    "failed",
    "stopped",
    "superseded",
)
CONSENT_CHANNELS = ("bot", "miniapp", "api")


class CohortPrice(Base):
    """An admin's price for a plan in a cohort, overriding the catalog."""

    __tablename__ = "cohort_prices"
    __table_args__ = (
        UniqueConstraint("cohort", "plan_code", name="uq_cohort_prices_cohort_plan"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cohort: Mapped[str] = mapped_column(String(16))
    plan_code: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)


class Subscription(Base):
    """A user's subscription: one row per user, extended by each paid period."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(one_of("status", SUBSCRIPTION_STATUSES), name="status_known"),
        CheckConstraint("expires_at >= starts_at", name="expires_after_start"),
        Index("ix_subscriptions_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    plan_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The expiry a reminder was sent for: a renewal moves expires_at, so reminders can go again.
    reminded_3d_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_1d_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Auto-renewal: on only with a method YooKassa saved; its id and "Карта *4444", nothing else.
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    renew_method_id: Mapped[str | None] = mapped_column(String(64))
    renew_method_title: Mapped[str | None] = mapped_column(String(64))
    # None while renewals go well; "retrying" after a declined charge; "lapsed" after the grace.
    renewal_state: Mapped[str | None] = mapped_column(String(16))
    # Access is kept until then after a declined renewal (the lapse sweep waits for it).
    grace_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SubscriptionPeriod(Base):
    """Days added to a subscription by one payment or grant; unique per payment (exactly once)."""

    __tablename__ = "subscription_periods"
    __table_args__ = (CheckConstraint("days > 0", name="days_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    payment_id: Mapped[str | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), unique=True
    )
    granted_by: Mapped[int | None] = mapped_column(BigInteger)
    plan_code: Mapped[str] = mapped_column(String(32))
    days: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RenewalConsent(Base):
    """A customer's consent to auto-renewal: the terms they saw, where and when."""

    __tablename__ = "renewal_consents"
    __table_args__ = (
        CheckConstraint(one_of("channel", CONSENT_CHANNELS), name="channel_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("days > 0", name="days_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Unknown until the first payment made the subscription row (a first purchase).
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    # The payment created with the consent (save_payment_method), if any.
    payment_id: Mapped[str | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), index=True
    )
    text_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    plan_code: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    days: Mapped[int] = mapped_column(Integer)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Renewal(Base):
    """The charge that renews one subscription for one period: one row per period start.

    `key` is the idempotence key of its charges (`<key>-<attempt>`), so two workers, a retry or
    a restart can never charge one period twice.
    """

    __tablename__ = "renewals"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start", name="uq_renewals_subscription_period"),
        CheckConstraint(one_of("status", RENEWAL_STATUSES), name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_renewals_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(48), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The expiry this renewal continues from; the new period starts here.
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    plan_code: Mapped[str] = mapped_column(String(32))
    days: Mapped[int] = mapped_column(Integer)
    # The price stated in the notice: what is charged, whatever the catalog says later.
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reason: Mapped[str | None] = mapped_column(String(64))
    # The payment of the latest attempt.
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
