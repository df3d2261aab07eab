"""Seats of ticket orders: give them back once when an order dies, take them again on capture."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, Payment
from db.repositories import inventory
from db.repositories.dialect import any_of
from payments.types import OrderStatus, PaymentKind


async def release_order_seats(session: AsyncSession, payment: Payment) -> None:
    """Cancel a canceled payment's order and give back its seats, once: the `seats_held` flag
    flips atomically. An order still waiting for its seats (on PostgreSQL they are held just
    after tx 1: `payments/tickets/checkout.py`) is canceled too, and then never gets them."""
    if payment.order_id is None:
        return
    if not await release_orders(session, [payment.order_id]):
        await session.execute(
            update(Order)
            .where(Order.id == payment.order_id, Order.status == OrderStatus.PENDING)
            .values(status=OrderStatus.CANCELED)
            .execution_options(synchronize_session=False)
        )


async def release_orders(session: AsyncSession, order_ids: Sequence[str]) -> int:
    """Cancel orders and give back their seats, one UPDATE per slot; each order only once.
    Return how many orders gave seats back.

    The ids go as one parameter (an array on PostgreSQL): the expiry sweep passes thousands.
    """
    dialect = session.get_bind().dialect.name
    result = await session.execute(
        update(Order)
        .where(any_of(dialect, Order.id, order_ids), Order.seats_held.is_(True))
        .values(seats_held=False, status=OrderStatus.CANCELED)
        .returning(Order.visit_date, Order.slot_time, Order.seats)
        .execution_options(synchronize_session=False)
    )
    seats: Counter[tuple[date, str]] = Counter()
    rows = result.all()
    for row in rows:
        seats[(row.visit_date, row.slot_time)] += row.seats
    # In one order of slots everywhere: two sweeps (or an admin's cancel beside one) releasing
    # the same two slots in opposite orders would each wait for the other's row lock.
    for (visit_date, slot_time), count in sorted(seats.items()):
        await inventory.release_seats(session, visit_date, slot_time, count)
    return len(rows)


async def reserve_for_capture(session: AsyncSession, payment: Payment, capacity: int) -> bool:
    """Return whether an authorised payment can be delivered: its seats are (re-)held."""
    if payment.kind == PaymentKind.SUBSCRIPTION:
        return True
    order = await session.get(Order, payment.order_id)
    if order is None:
        return False
    if order.seats_held:
        return True
    # The hold was released (expired or canceled); take the seats again if still free.
    held = await inventory.hold_seats(
        session, order.visit_date, order.slot_time, order.seats, capacity
    )
    if held:
        order.seats_held = True
        order.status = OrderStatus.PENDING
    return held
