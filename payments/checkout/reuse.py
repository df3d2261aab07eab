"""One order per journey: a checkout started again with the same choices reuses the pending one.

The bot asks for this (a double tap, a plan pressed twice, the same tickets chosen again while
their payment waits); the REST API does not, so its clients keep creating a payment per call.
The look-up runs inside tx 1 with the user's row locked (`Checkout.run`), so two checkouts of
one user cannot both miss each other. The one that finds a row whose link is not stored yet
(the first is still talking to YooKassa) waits for the link instead of making a second payment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, Payment
from db.repositories import payments as payments_repo
from payments.checkout.errors import ProviderDown
from payments.tickets.rules import ValidOrder
from payments.types import PaymentKind, PaymentStatus

# A payment about to expire is not handed out again: the customer could not finish paying.
MIN_TIME_LEFT = timedelta(seconds=15)
LINK_WAIT_SECONDS = 30.0
LINK_POLL_SECONDS = 0.05


def _lines(order: Order) -> Mapping[str, int]:
    return {item.ticket_type: item.quantity for item in order.items}


async def same_tickets(
    session: AsyncSession,
    user_id: str,
    order: ValidOrder,
    *,
    email: str | None,
    source: str,
    now: datetime,
) -> Payment | None:
    """Return the user's live pending payment for exactly these tickets, if there is one."""
    wanted = {line.ticket_type: line.quantity for line in order.lines}
    for payment in await payments_repo.live_pending(
        session, user_id, PaymentKind.TICKETS, source=source, after=now + MIN_TIME_LEFT
    ):
        existing = await session.get(Order, payment.order_id)
        if (
            existing is not None
            and existing.seats_held
            and existing.visit_date == order.visit_date
            and existing.slot_time == order.slot_time
            and existing.email == email
            and _lines(existing) == wanted
        ):
            return payment
    return None


async def same_plan(
    session: AsyncSession, user_id: str, plan_code: str, *, source: str, now: datetime
) -> Payment | None:
    """Return the user's live pending one-off payment for this plan, if there is one.

    A payment made with auto-renewal consent, or one paying a renewal, is never handed out
    as a one-off purchase.
    """
    for payment in await payments_repo.live_pending(
        session, user_id, PaymentKind.SUBSCRIPTION, source=source, after=now + MIN_TIME_LEFT
    ):
        extra = payment.extra or {}
        if (
            payment.plan_code == plan_code
            and not extra.get("auto_renew")
            and not extra.get("renewal_id")
        ):
            return payment
    return None


async def wait_for_link(sessionmaker: async_sessionmaker[AsyncSession], payment_id: str) -> Payment:
    """Return the payment once its YooKassa link is stored; ProviderDown if it never comes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LINK_WAIT_SECONDS
    while True:
        async with sessionmaker() as session:
            payment = await payments_repo.get_payment(session, payment_id)
        if payment is None or payment.status != PaymentStatus.PENDING:
            raise ProviderDown(f"payment {payment_id} ended before its link was stored")
        if payment.confirmation_url and payment.provider_id:
            return payment
        if loop.time() >= deadline:
            raise ProviderDown(f"payment {payment_id} still has no link")
        await asyncio.sleep(LINK_POLL_SECONDS)


@dataclass(frozen=True, slots=True)
class Choices:
    """What an earlier payment bought, to offer the same again (book again, try again)."""

    kind: str
    plan_code: str | None = None
    visit_date: date | None = None
    slot_time: str | None = None
    quantities: Mapping[str, int] = field(default_factory=dict)
    email: str | None = None


async def choices_of(session: AsyncSession, payment_id: str, user_id: str) -> Choices | None:
    """Return the choices behind a user's own payment (None if it is not theirs)."""
    payment = await payments_repo.get_payment(session, payment_id)
    if payment is None or payment.user_id != user_id:
        return None
    if payment.kind == PaymentKind.SUBSCRIPTION:
        return Choices(kind=payment.kind, plan_code=payment.plan_code)
    order = await session.get(Order, payment.order_id)
    if order is None:
        return None
    return Choices(
        kind=payment.kind,
        visit_date=order.visit_date,
        slot_time=order.slot_time,
        quantities=dict(_lines(order)),
        email=order.email,
    )
