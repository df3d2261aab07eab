"""A YooKassa payment that no longer stands behind ours: its amount was changed.

Changing a pending payment's amount (`PUT`/`PATCH /v1/payments/{id}`, payments/sessions.py)
creates a new payment at YooKassa and keeps the old one's id in `extra["superseded"]`. The old
link stays payable there, so an authorisation of it is canceled: the money goes back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment
from db.repositories import payments as payments_repo
from payments.applied import Applied, Outcome
from payments.ports import PaymentGateway
from payments.types import PaymentStatus, ProviderPayment
from payments.yookassa.gateway import GatewayError

log = logging.getLogger(__name__)

# Writes a payment event (payment, YooKassa's view, source, event): Fulfilment._record.
Record = Callable[[Payment, ProviderPayment, str, str], Awaitable[None]]


async def settle_superseded(
    remote: ProviderPayment,
    source: str,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: PaymentGateway,
    record: Record,
) -> Applied:
    """Handle a YooKassa payment that is not (or no longer) the one behind our payment."""
    ours = remote.metadata.get("payment_id")
    async with sessionmaker() as session:
        payment = await payments_repo.get_payment(session, ours) if ours else None
    superseded = (payment.extra or {}).get("superseded", []) if payment else []
    if payment is None or remote.id not in superseded:
        log.info("YooKassa payment %s is not ours; ignored", remote.id)
        return Applied(Outcome.UNKNOWN)
    if remote.status is PaymentStatus.WAITING_FOR_CAPTURE:
        try:
            await gateway.cancel_payment(remote.id, f"{remote.id}-superseded")
        except GatewayError as exc:
            log.warning("superseded payment %s not canceled yet: %s", remote.id, exc)
            return Applied(Outcome.RETRY, payment.id, PaymentStatus(payment.status))
        await record(payment, remote, source, "superseded:canceled")
        log.info("superseded YooKassa payment %s of %s canceled", remote.id, payment.id)
    return Applied(Outcome.ALREADY, payment.id, PaymentStatus(payment.status))
