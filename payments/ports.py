"""Ports the use-cases depend on; the bot, the mailer and the gateway implement them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from payments.mailer import Attachment, MailResult
from payments.types import (
    PaymentRequest,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
    Receipt,
)


class Clock(Protocol):
    """Where "now" comes from, so tests can move time."""

    def now(self) -> datetime:
        """Return the current aware UTC time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current aware UTC time."""
        return datetime.now(UTC)


class PaymentGateway(Protocol):
    """The payment provider.

    Contract: every method either returns the provider's current view of the object or raises
    GatewayUnavailable (no definite answer: safe to try again later with the same key) or
    GatewayRejected (a definite refusal: do not retry the same request). Calls with the same
    idempotence key are the same operation.
    """

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        """Create a payment."""
        ...

    async def get_payment(self, provider_id: str) -> ProviderPayment:
        """Fetch a payment."""
        ...

    async def list_payments(
        self, status: PaymentStatus, created_since: datetime, limit: int = 10_000
    ) -> list[ProviderPayment]:
        """List payments in a status created since a moment."""
        ...

    async def capture_payment(
        self, provider_id: str, amount: Decimal, idempotence_key: str
    ) -> ProviderPayment:
        """Capture an authorised payment."""
        ...

    async def cancel_payment(self, provider_id: str, idempotence_key: str) -> ProviderPayment:
        """Cancel an authorised payment, releasing the money."""
        ...

    async def create_refund(
        self,
        provider_id: str,
        amount: Decimal,
        idempotence_key: str,
        description: str = "",
        receipt: Receipt | None = None,
    ) -> ProviderRefund:
        """Refund a succeeded payment; `receipt` is the refund's 54-FZ receipt."""
        ...

    async def get_refund(self, refund_id: str) -> ProviderRefund:
        """Fetch a refund."""
        ...


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to: the user, their language, and the message showing the pay button."""

    user_id: str
    language: str
    pay_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionActivated:
    """A paid (or granted) period was added to a subscription."""

    recipient: Recipient
    plan_code: str
    days: int
    expires_at: datetime
    amount: Decimal | None
    # Paid after we had given up on the payment (expired or canceled), and honoured anyway.
    late: bool = False


@dataclass(frozen=True, slots=True)
class PaymentCanceled:
    """A payment ended without money taken (or with it released)."""

    recipient: Recipient
    payment_id: str
    reason: str
    kind: str = "tickets"
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    """One ticket to deliver."""

    code: str
    ticket_type: str
    visit_date: date
    slot_time: str
    # What its QR carries: the signed content (payments/tickets/signing.py).
    qr: str


@dataclass(frozen=True, slots=True)
class TicketsIssued:
    """An order was paid and its tickets issued."""

    recipient: Recipient
    order_id: str
    email: str | None
    tickets: tuple[IssuedTicket, ...]
    # Paid after the hold had ended (expired or canceled) and the seats were held again.
    late: bool = False


@dataclass(frozen=True, slots=True)
class SubscriptionReminder:
    """A subscription ends soon."""

    recipient: Recipient
    expires_at: datetime
    days_left: int
    # An auto-renewing subscription: the notice of the coming charge (what, when, which card).
    auto_renew: bool = False
    plan_code: str | None = None
    amount: Decimal | None = None
    charge_at: datetime | None = None
    method_title: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionEnded:
    """A subscription lapsed."""

    recipient: Recipient


@dataclass(frozen=True, slots=True)
class RenewalFailed:
    """A renewal charge was declined: why, what happens next, until when access is kept."""

    recipient: Recipient
    renewal_id: int
    plan_code: str
    amount: Decimal
    # YooKassa's cancellation reason (insufficient_funds, card_expired, permission_revoked, ...).
    reason: str
    # When the saved card is tried again; None: no more automatic tries.
    next_attempt_at: datetime | None
    # The card can no longer be charged: auto-renewal was turned off.
    auto_renew_off: bool
    # Access is kept until then; paying the renewal by hand before it continues the period.
    grace_until: datetime | None


@runtime_checkable
class RenewalNotifier(Protocol):
    """Tells customers about renewals; failures are logged by the implementation, never raised."""

    async def renewal_failed(self, note: RenewalFailed) -> None:
        """Say the renewal charge failed, why, the next try, and offer to pay by hand."""
        ...


@dataclass(frozen=True, slots=True)
class RefundMade:
    """Money went back to a customer: all or part of a payment, and what that changed."""

    recipient: Recipient
    payment_id: str
    kind: str
    amount: Decimal
    full: bool
    order_id: str | None = None
    tickets_refunded: int = 0
    expires_at: datetime | None = None
    subscription_ended: bool = False
    # "XTR": the amount is whole Telegram Stars, not roubles.
    currency: str = "RUB"


class Notifier(Protocol):
    """Tells customers what happened; failures are logged by the implementation, never raised."""

    async def subscription_activated(self, note: SubscriptionActivated) -> None:
        """Confirm a subscription period with its new expiry."""
        ...

    async def payment_canceled(self, note: PaymentCanceled) -> None:
        """Tell the customer a payment was canceled and why."""
        ...

    async def tickets_issued(self, note: TicketsIssued) -> None:
        """Deliver QR tickets in the chat (and by e-mail through the mailer)."""
        ...

    async def subscription_reminder(self, note: SubscriptionReminder) -> None:
        """Remind that a subscription ends soon."""
        ...

    async def subscription_ended(self, note: SubscriptionEnded) -> None:
        """Say that a subscription has ended."""
        ...


class RefundNotifier(Protocol):
    """Tells customers about refunds; failures are logged by the implementation, never raised."""

    async def refund_made(self, note: RefundMade) -> None:
        """Say how much comes back and what happened to the tickets or the subscription."""
        ...


class CustomerNotifier(Notifier, RefundNotifier, Protocol):
    """Every message to customers: payments, tickets, subscriptions and refunds.

    Kept apart from Notifier so that notifiers which never see refunds (the sweeps' and
    fulfilment's collaborators, their test doubles) need not implement refund_made.
    """


class Mailer(Protocol):
    """Sends e-mail; says how it went (MailResult), never raises."""

    async def send(
        self, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()
    ) -> MailResult:
        """Send one message."""
        ...


class LogNotifier:
    """The notifier when the bot is off: it only logs what it would have said."""

    # It logs ids, counts and dates, no customer text: a note needs no language's texts built
    # (payments.outbox.notes.note_deliverers).
    formats_texts = False

    def __init__(self) -> None:
        """Create the logger."""
        self._log = logging.getLogger("payments.notifier")

    async def subscription_activated(self, note: SubscriptionActivated) -> None:
        """Log the activation."""
        self._log.info(
            "bot off: user %s subscription until %s",
            note.recipient.user_id,
            note.expires_at.isoformat(),
        )

    async def payment_canceled(self, note: PaymentCanceled) -> None:
        """Log the cancellation."""
        self._log.info(
            "bot off: user %s payment %s canceled (%s)",
            note.recipient.user_id,
            note.payment_id,
            note.reason,
        )

    async def tickets_issued(self, note: TicketsIssued) -> None:
        """Log the tickets."""
        self._log.info(
            "bot off: user %s order %s: %d tickets",
            note.recipient.user_id,
            note.order_id,
            len(note.tickets),
        )

    async def tickets_qr(self, note: TicketsIssued) -> None:
        """The QR album of an order (logged with its confirmation): nothing more to say."""

    async def subscription_reminder(self, note: SubscriptionReminder) -> None:
        """Log the reminder."""
        self._log.info(
            "bot off: user %s subscription ends in %d days", note.recipient.user_id, note.days_left
        )

    async def subscription_ended(self, note: SubscriptionEnded) -> None:
        """Log the end."""
        self._log.info("bot off: user %s subscription ended", note.recipient.user_id)

    async def renewal_failed(self, note: RenewalFailed) -> None:
        """Log the declined renewal."""
        self._log.info(
            "bot off: user %s renewal %d declined (%s)",
            note.recipient.user_id,
            note.renewal_id,
            note.reason,
        )

    async def refund_made(self, note: RefundMade) -> None:
        """Log the refund."""
        self._log.info(
            "bot off: user %s refunded %s on payment %s (full: %s)",
            note.recipient.user_id,
            note.amount,
            note.payment_id,
            note.full,
        )
