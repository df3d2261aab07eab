"""Enums and frozen dataclasses that cross layer boundaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class PaymentStatus(StrEnum):
    """Our payment states; the same words YooKassa uses."""

    PENDING = "pending"
    WAITING_FOR_CAPTURE = "waiting_for_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


OPEN_STATUSES = (PaymentStatus.PENDING, PaymentStatus.WAITING_FOR_CAPTURE)


class PaymentKind(StrEnum):
    """What a payment buys."""

    TICKETS = "tickets"
    SUBSCRIPTION = "subscription"


class CancelReason(StrEnum):
    """Why a payment ended canceled (provider reasons are stored as `provider:<reason>`)."""

    EXPIRED = "expired"
    USER = "user"
    SUPERSEDED = "superseded"
    SOLD_OUT = "sold_out"
    PROVIDER = "provider"


class Cohort(StrEnum):
    """Customer cohort that decides a plan's price."""

    TEST = "test"
    NEW = "new"
    RETURNING = "returning"
    ACTIVE = "active"
    REGULAR = "regular"


class TicketStatus(StrEnum):
    """Ticket lifecycle."""

    VALID = "valid"
    USED = "used"
    REFUNDED = "refunded"


class SubscriptionStatus(StrEnum):
    """Subscription lifecycle."""

    ACTIVE = "active"
    EXPIRED = "expired"


class OrderStatus(StrEnum):
    """Ticket order lifecycle."""

    PENDING = "pending"
    PAID = "paid"
    CANCELED = "canceled"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A customer as the use-cases see them."""

    id: str
    first_name: str | None
    language: str
    email: str | None = None
    phone: str | None = None
    is_admin: bool = False
    # Gate staff (STAFF_IDS): may check tickets in, nothing else of the console.
    is_staff: bool = False
    is_test: bool = False


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    """A user's subscription."""

    user_id: str
    plan_code: str
    status: SubscriptionStatus
    starts_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TicketInfo:
    """An issued ticket."""

    code: str
    order_id: str
    ticket_type: str
    visit_date: date
    slot_time: str
    status: TicketStatus
    checked_in_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """What a user pays for a plan, and why."""

    plan_code: str
    cohort: Cohort
    amount: Decimal
    description: str


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One line of a 54-FZ receipt: the unit price times a quantity."""

    description: str
    quantity: int
    unit_price: Decimal
    vat_code: int
    payment_subject: str
    payment_mode: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """A 54-FZ receipt: its lines and the customer's contact (an e-mail, else a phone)."""

    lines: Sequence[ReceiptLine]
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """What we ask YooKassa to create."""

    idempotence_key: str
    amount: Decimal
    description: str
    return_url: str
    capture: bool
    metadata: Mapping[str, str]
    receipt_lines: Sequence[ReceiptLine]
    receipt_email: str | None = None
    receipt_phone: str | None = None
    currency: str = "RUB"
    # Ask YooKassa to save the method the customer pays with, for later charges (with consent).
    save_payment_method: bool = False
    # Charge a method saved earlier: no confirmation, nobody at a checkout page.
    payment_method_id: str | None = None

    def __post_init__(self) -> None:
        """Refuse a request YooKassa would refuse: saving while charging a saved method."""
        if self.payment_method_id is not None and self.save_payment_method:
            raise ValueError("a charge of a saved method cannot save a method")
        if self.payment_method_id == "":
            raise ValueError("payment_method_id must not be empty")


@dataclass(frozen=True, slots=True)
class ProviderMethod:
    """The method a payment was paid with, as YooKassa reports it; nothing else of the card.

    `saved` is YooKassa's word that the method can be charged again by `id`; `title` is its
    display name ("Bank card *4444"); `card_last4` the card's last four digits, if a card.
    """

    id: str
    type: str
    saved: bool
    title: str | None = None
    card_last4: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """A payment as YooKassa reports it: the only source of truth about money."""

    id: str
    status: PaymentStatus
    paid: bool
    amount: Decimal
    currency: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    confirmation_url: str | None = None
    payment_method: str | None = None
    captured_at: datetime | None = None
    cancellation_party: str | None = None
    cancellation_reason: str | None = None
    refunded_amount: Decimal = Decimal("0.00")
    test: bool = False
    # The method it was paid (or charged) with; None while nobody has paid.
    method: ProviderMethod | None = None

    @property
    def saved_method(self) -> ProviderMethod | None:
        """The method YooKassa saved for later charges, if it did (`saved: true`)."""
        return self.method if self.method is not None and self.method.saved else None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    """A refund as YooKassa reports it."""

    id: str
    payment_id: str
    status: str
    amount: Decimal
