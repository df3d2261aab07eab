"""What a checkout hands back: the payment waiting for the customer, and its order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from db.models import Payment


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """A payment waiting for the customer."""

    payment_id: str
    provider_id: str
    confirmation_url: str
    amount: Decimal
    description: str
    expires_at: datetime
    is_test: bool
    # Whether this is a pending payment started before with the same choices, handed out again,
    # and the chat message that showed its pay button then (to retire if it is another one).
    reused: bool = False
    message_id: int | None = None


def result_of(payment: Payment) -> CheckoutResult:
    """The result of a checkout that reuses a pending payment."""
    return CheckoutResult(
        payment_id=payment.id,
        provider_id=payment.provider_id or "",
        confirmation_url=payment.confirmation_url or "",
        amount=payment.amount,
        description=payment.description,
        expires_at=payment.expires_at,
        is_test=payment.is_test,
        reused=True,
        message_id=payment.chat_message_id,
    )


@dataclass(frozen=True, slots=True)
class TicketCheckoutResult:
    """A ticket payment waiting for the customer, and its order."""

    result: CheckoutResult
    order_id: str


@dataclass(frozen=True, slots=True)
class Retried:
    """The payment that replaces a declined one, and its order (None for a plan)."""

    result: CheckoutResult
    order_id: str | None
    reused: bool = False
