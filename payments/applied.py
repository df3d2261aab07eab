"""What applying a provider payment did (`Fulfilment.apply`), whom its message goes to, and
whether YooKassa's view of a payment disagrees with ours."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from db.models import Payment
from payments.ports import Recipient
from payments.types import PaymentStatus, ProviderPayment


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


def disagreement(payment: Payment, remote: ProviderPayment) -> str | None:
    """Say how YooKassa's payment disagrees with ours (amount, currency, our id), or None."""
    if remote.amount != payment.amount:
        return f"amount {remote.amount} != ours {payment.amount}"
    if remote.currency != payment.currency:
        return f"currency {remote.currency} != ours {payment.currency}"
    claimed = remote.metadata.get("payment_id")
    if claimed and claimed != payment.id:
        return f"metadata payment_id {claimed} != ours {payment.id}"
    return None
