"""Tickets: check-in and refund as conditional UPDATEs, look-ups by code and payment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, Payment, Ticket


async def by_code(session: AsyncSession, code: str) -> Ticket | None:
    """Return a ticket by the code its QR carries, read afresh."""
    return await by_any_code(session, (code,))


async def by_any_code(session: AsyncSession, codes: Sequence[str]) -> Ticket | None:
    """Return the ticket whose code is one of `codes` (the first that exists), read afresh."""
    if not codes:
        return None
    result = await session.execute(
        select(Ticket)
        .where(Ticket.code.in_(tuple(codes)))
        .execution_options(populate_existing=True)
    )
    found = {ticket.code: ticket for ticket in result.scalars()}
    return next((found[code] for code in codes if code in found), None)


async def check_in(
    session: AsyncSession,
    code: str,
    *,
    visit_date: date,
    at: datetime,
    by: int,
    device: str | None = None,
) -> bool:
    """Mark a valid ticket of `visit_date` used (when, by whom, where); return whether this did.

    One conditional UPDATE: of two gates scanning one ticket at once, exactly one wins. `at` is
    now, or the moment an offline gate scanned the ticket (its queued check-in synced later).
    A test ticket (bought by a test user for 10.00) never lets anyone in: its payment's
    `is_test` is part of the condition.
    """
    real_payments = select(Payment.id).where(Payment.is_test.is_(False))
    result = await session.execute(
        update(Ticket)
        .where(
            Ticket.code == code,
            Ticket.status == "valid",
            Ticket.visit_date == visit_date,
            Ticket.payment_id.in_(real_payments),
        )
        .values(status="used", checked_in_at=at, checked_in_by=by, checked_in_device=device)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def used_on(session: AsyncSession, visit_date: date) -> list[Ticket]:
    """Return the tickets of a day already checked in, in check-in order."""
    result = await session.execute(
        select(Ticket)
        .where(Ticket.visit_date == visit_date, Ticket.status == "used")
        .order_by(Ticket.checked_in_at, Ticket.id)
    )
    return list(result.scalars())


async def refunded_codes_on(session: AsyncSession, visit_date: date) -> list[str]:
    """Return the codes of a day's refunded tickets."""
    result = await session.execute(
        select(Ticket.code)
        .where(Ticket.visit_date == visit_date, Ticket.status == "refunded")
        .order_by(Ticket.id)
    )
    return list(result.scalars())


async def is_test(session: AsyncSession, ticket: Ticket) -> bool:
    """Return whether a ticket was bought by a test user (its payment is a test payment)."""
    flag = await session.scalar(select(Payment.is_test).where(Payment.id == ticket.payment_id))
    return bool(flag)


async def refund_valid(session: AsyncSession, payment_id: str) -> int:
    """Mark every still-valid ticket of a payment refunded; return how many moved."""
    result = await session.execute(
        update(Ticket)
        .where(Ticket.payment_id == payment_id, Ticket.status == "valid")
        .values(status="refunded")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def of_payment(session: AsyncSession, payment_id: str) -> list[Ticket]:
    """Return a payment's tickets in issue order."""
    result = await session.execute(
        select(Ticket)
        .where(Ticket.payment_id == payment_id)
        .order_by(Ticket.id)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def close_refunded_order(session: AsyncSession, order_id: str) -> bool:
    """Mark an order refunded; return whether it still held seats (its hold ends here, once)."""
    flipped = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.seats_held.is_(True))
        .values(seats_held=False, status="refunded")
        .execution_options(synchronize_session=False)
    )
    if flipped.rowcount == 1:  # type: ignore[attr-defined]
        return True
    await session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(status="refunded")
        .execution_options(synchronize_session=False)
    )
    return False
