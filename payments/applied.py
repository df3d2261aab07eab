"""What applying a provider payment did (`Fulfilment.apply`), and whom its message goes to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from db.models import Payment
from payments.ports import Recipient
from payments.types import PaymentStatus


class Outcome(StrEnum):
    """What applying a provider payment did."""

    APPLIED = "applied"  # this call moved the payment and ran its effects
    ALREADY = "already"  # someone else already did
    WAITING = "waiting"  # nothing to do yet (still pending at YooKassa)
    UNKNOWN = "unknown"  # not one of ours
    MISMATCH = "mismatch"  # YooKassa's amount, currency or metadata disagree with ours: ignored
    RETRY = "retry"  # YooKassa could not be asked; try again later


@dataclass(frozen=True, slots=True)
class Applied:
    """The result of `apply`: what happened and the payment's status afterwards."""

    outcome: Outcome
    payment_id: str | None = None
    status: PaymentStatus | None = None


def recipient_of(payment: Payment, language: str) -> Recipient:
    """Address a message about a payment to its user."""
    return Recipient(
        user_id=payment.user_id, language=language, pay_message_id=payment.chat_message_id
    )
