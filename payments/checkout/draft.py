"""What tx 1 of a checkout writes: the pending row, its event, and the request for YooKassa.

Ticket and plan checkouts (`payments/tickets/checkout.py`, `payments/subscriptions/checkout.py`)
build their `Draft` from these pieces; `payments/checkout/transactions.py` runs the transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment, User
from db.repositories import payments as payments_repo
from db.writes import write
from payments.types import PaymentRequest, PaymentStatus


@dataclass(frozen=True, slots=True)
class CheckoutConfig:
    """Checkout settings taken from Settings by the composition root."""

    sandbox: bool
    ttl_minutes: int
    pending_limit: int
    pending_window_minutes: int
    fallback_email_domain: str
    test_user_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class Draft:
    """What tx 1 decided: the row is written, the request is ready for YooKassa."""

    payment_id: str
    request: PaymentRequest
    expires_at: datetime
    is_test: bool


def receipt_contact(
    user: User, email: str | None, phone: str | None, fallback_domain: str
) -> tuple[str | None, str | None]:
    """Pick the receipt contact: e-mail, else phone, else `<user_id>@<fallback domain>`."""
    email = email or user.email
    phone = phone or user.phone
    if email:
        return email, None
    if phone:
        return None, phone
    return f"{user.id}@{fallback_domain}", None


def _pending(payment_id: str, now: datetime) -> dict[str, Any]:
    """What every new pending payment starts with, by attribute (`extra` is the column
    `metadata`); both ways of writing one below take it from here, so they cannot drift."""
    return {
        "idempotence_key": payment_id,
        "status": PaymentStatus.PENDING,
        "refunded_amount": Decimal("0.00"),
        "extra": {"qr_codes_issued": False, "tickets_activated": False},
        "created_at": now,
        "updated_at": now,
    }


def add_pending_payment(
    session: AsyncSession, payment: Payment, *, now: datetime, detail: dict[str, object]
) -> None:
    """Add a new pending payment (our id is its idempotence key) and its "created" event."""
    for name, value in _pending(payment.id, now).items():
        setattr(payment, name, value)
    session.add(payment)
    payments_repo.add_event(
        session,
        payment_id=payment.id,
        provider_id=None,
        source=payment.source,
        event="created",
        status_after=PaymentStatus.PENDING,
        detail=detail,
        at=now,
    )


_NEW_PAYMENT = insert(cast(Table, Payment.__table__))


async def write_pending_payment(
    session: AsyncSession, values: dict[str, Any], *, now: datetime, detail: dict[str, object]
) -> None:
    """Write a new pending payment as `add_pending_payment` adds one, with its "created" event,
    from its columns' `values` (`id` and `source` among them).

    An INSERT built once, written at once: a payment added to the session cost a unit-of-work
    flush, several times the CPU of the one-row INSERT it became, in every ticket checkout.
    """
    payment_id = values["id"]
    fields = _pending(payment_id, now)
    fields["metadata"] = fields.pop("extra")
    await write(session, _NEW_PAYMENT, {**values, **fields})
    await payments_repo.record_event(
        session,
        payment_id=payment_id,
        provider_id=None,
        source=values["source"],
        event="created",
        status_after=PaymentStatus.PENDING,
        detail=detail,
        at=now,
    )
