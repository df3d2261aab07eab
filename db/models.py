"""The domain tables of SPEC §4, with the constraints that keep the data honest.

Users, orders, seats, payments, refunds, tickets and the admin's audit here; the subscription
tables in db/models_subscriptions.py and the outbox in db/models_outbox.py (both imported at
the end, so importing this module registers every table on the metadata).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Money, UTCDateTime, one_of, utcnow

PAYMENT_STATUSES = ("pending", "waiting_for_capture", "succeeded", "canceled")
PAYMENT_KINDS = ("tickets", "subscription")
TICKET_STATUSES = ("valid", "used", "refunded")
ORDER_STATUSES = ("pending", "paid", "canceled", "refunded")
REFUND_STATUSES = ("pending", "succeeded", "canceled")


class User(Base):
    """A customer: a Telegram user (numeric id) or an API test user such as `test_user_123`."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="ru", server_default="ru")
    # Picked in the bot (/language): then `language` no longer follows Telegram's language code.
    language_chosen: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    onboarding_completed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlotInventory(Base):
    """Seats of one time slot on one date: `held` counts seats held by open payments and sold."""

    __tablename__ = "slot_inventory"
    __table_args__ = (
        UniqueConstraint("visit_date", "slot_time", name="uq_slot_inventory_date_time"),
        CheckConstraint("held >= 0", name="held_non_negative"),
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
        CheckConstraint("held <= capacity", name="held_within_capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visit_date: Mapped[date] = mapped_column(Date)
    slot_time: Mapped[str] = mapped_column(String(5))
    capacity: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    capacity_overridden: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderCounter(Base):
    """Per-day sequence behind order ids `ZT-YYYYMMDD-NNN`."""

    __tablename__ = "order_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    """A ticket order: one visit date and slot, several ticket types."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(one_of("status", ORDER_STATUSES), name="status_known"),
        CheckConstraint("total > 0", name="total_positive"),
        CheckConstraint("seats > 0", name="seats_positive"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    visit_date: Mapped[date] = mapped_column(Date)
    slot_time: Mapped[str] = mapped_column(String(5))
    seats: Mapped[int] = mapped_column(Integer)
    # Whether the order's seats are counted in slot_inventory.held right now.
    seats_held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    total: Mapped[Decimal] = mapped_column(Money)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", lazy="selectin"
    )


class OrderItem(Base):
    """A line of an order: a ticket type, a quantity and the unit price from the catalog."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
        UniqueConstraint("order_id", "ticket_type", name="uq_order_items_order_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    ticket_type: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    visit_date: Mapped[date] = mapped_column(Date)
    visit_time: Mapped[str] = mapped_column(String(5))

    order: Mapped[Order] = relationship(back_populates="items")


class Payment(Base):
    """A payment: our id `ZT_` + 10 digits, the provider's id, and a guarded state machine."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(one_of("status", PAYMENT_STATUSES), name="status_known"),
        CheckConstraint(one_of("kind", PAYMENT_KINDS), name="kind_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_amount"
        ),
        CheckConstraint(
            "(kind = 'tickets' AND order_id IS NOT NULL) OR "
            "(kind = 'subscription' AND plan_code IS NOT NULL)",
            name="kind_has_target",
        ),
        # No index holds a column the expiry sweep writes (status, cancel_reason, updated_at),
        # and on PostgreSQL the table leaves half of each page free (fillfactor 50, set by
        # migration 0010: not a table option here, which would load PostgreSQL's dialect on
        # SQLite too): a payment's new version then stays on its page with no index entry (a
        # heap-only update). The sweep finds its payments through `payment_deadlines`.
        Index("ix_payments_user_created", "user_id", "created_at"),
        # The admin's reports (migrations 0007, 0010): /stats' paid payments, /export's period.
        Index("ix_payments_captured", "captured_at", "created_at"),
        Index("ix_payments_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    idempotence_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    order_id: Mapped[str | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    plan_code: Mapped[str | None] = mapped_column(String(32))
    cohort: Mapped[str | None] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    status: Mapped[str] = mapped_column(String(24), default="pending")
    cancel_reason: Mapped[str | None] = mapped_column(String(64))
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(128))
    confirmation_url: Mapped[str | None] = mapped_column(Text)
    return_url: Mapped[str | None] = mapped_column(Text)
    cancel_url: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[str | None] = mapped_column(String(128))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    payment_method: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default="bot")
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    # Chat message that shows the pay button, so the bot can edit it when the payment moves on.
    chat_message_id: Mapped[int | None] = mapped_column(BigInteger)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentDeadline(Base):
    """A payment that may still be open, with the moment it expires: the sweeps' work list.

    The database writes one for every payment that starts or comes back open (pending or
    waiting for capture: the triggers of migration 0010), so no path that creates a payment
    can forget it. The expiry sweep deletes the ones it cancels and, once they are due, those
    of payments that finished meanwhile; a payment waiting for capture keeps its own for the
    reconciler. So the list holds the open payments and the last TTL's finished ones, not
    the whole history, and no index of `payments` needs its status.
    """

    __tablename__ = "payment_deadlines"
    __table_args__ = (Index("ix_payment_deadlines_expires", "expires_at"),)

    payment_id: Mapped[str] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), primary_key=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentEvent(Base):
    """Every notification and state change of a payment, for audit and idempotency."""

    __tablename__ = "payment_events"
    __table_args__ = (
        Index("ix_payment_events_payment", "payment_id", "id"),
        # The recheck's recent cancellations (migration 0010).
        Index("ix_payment_events_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No foreign key (migration 0011): each event is written from its payment's row, in the
    # transaction that changes it; `Sessions.delete` (payments/sessions.py) deletes a
    # payment's events with it.
    payment_id: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(64))
    status_before: Mapped[str | None] = mapped_column(String(24))
    status_after: Mapped[str | None] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Refund(Base):
    """A refund through YooKassa of all or part of a succeeded payment."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("status", REFUND_STATUSES), name="status_known"),
        Index("ix_refunds_applied", "applied_at"),  # /stats (migration 0007)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_id: Mapped[str] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    idempotence_key: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by: Mapped[int | None] = mapped_column(BigInteger)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ticket(Base):
    """One admitted person: an unguessable code that the QR carries, checked in once."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(one_of("status", TICKET_STATUSES), name="status_known"),
        Index("ix_tickets_user_visit", "user_id", "visit_date"),
        # The gate's day lists: a day's used and refunded tickets.
        Index("ix_tickets_visit_status", "visit_date", "status"),
        Index("ix_tickets_created", "created_at"),  # /stats (migration 0007)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_type: Mapped[str] = mapped_column(String(32))
    visit_date: Mapped[date] = mapped_column(Date)
    slot_time: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default="valid")
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by: Mapped[int | None] = mapped_column(BigInteger)
    # Which gate scanned it ("Gate 2", or "chat" for /checkin).
    checked_in_device: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(Base):
    """Who did what from the admin console, when, and how it ended."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created", "created_at"),)  # /export (migration 0007)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    admin_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64), index=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceKey(Base):
    """A key the service made for itself on its first start (the QR signing seed), by name.

    Inserted only if absent, then read back: every instance ends up with the same value.
    """

    __tablename__ = "service_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Registered on the same metadata; kept in their own modules (this one is long enough).
from db.models_outbox import OutboxMessage  # noqa: E402, F401
from db.models_subscriptions import Subscription  # noqa: E402, F401
