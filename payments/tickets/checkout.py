"""Ticket checkout, tx 1: hold the seats, write the order and its pending two-stage payment.

In a sale rush every checkout of a slot updates the same two rows: the slot's inventory and
the day's order counter. On PostgreSQL such a row stays locked until its transaction ends, and
every checkout waiting for it holds a pooled connection meanwhile. So there each is written in
a statement that commits by itself: the order number is drawn before tx 1 (`number_order`), and
tx 1 writes the order without its seats, which `hold_order` holds right after the commit. A
row locked until this process got round to sending COMMIT stayed locked for as long as the
busy loop took to get there (the rush answered checkouts in seconds). If the seats are gone by
then, the order and its payment are canceled as sold out. On SQLite, whose writers take turns
anyway, both happen inside tx 1 (the seats last, right before its commit): one write
transaction instead of three, each of which waited its turn for the writer. A refused or
failed checkout leaves a gap in the day's order numbers on PostgreSQL, never a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, OrderItem, User
from db.repositories import inventory
from db.repositories import payments as payments_repo
from db.writes import one_statement, write
from payments.catalog import Catalog
from payments.checkout.draft import CheckoutConfig, Draft, receipt_contact, write_pending_payment
from payments.checkout.errors import SoldOut, TooManyUnpaidSeats
from payments.ports import Clock
from payments.pricing import is_test_user, mark
from payments.receipts import single_line, ticket_lines
from payments.tickets.rules import ValidOrder
from payments.types import OrderStatus, PaymentKind, PaymentRequest


@dataclass(frozen=True, slots=True)
class TicketPurchase:
    """What the buyer asked for and where their payment comes from."""

    order: ValidOrder
    return_url: str
    source: str
    email: str | None
    phone: str | None
    session_id: str | None
    cancel_url: str | None
    description: str | None


# tx 1's order and its lines, written at once by INSERTs built once (see write_pending_payment).
_NEW_ORDER = insert(cast(Table, Order.__table__))
_NEW_ITEM = insert(cast(Table, OrderItem.__table__))


def hot_rows_apart(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Whether the order number is drawn before tx 1 and the seats held after it, each in a
    statement of its own (PostgreSQL), rather than both inside tx 1 (SQLite)."""
    bind = sessionmaker.kw.get("bind")
    return bind is not None and bind.dialect.name == "postgresql"


async def number_order(
    sessionmaker: async_sessionmaker[AsyncSession], order: ValidOrder, now: datetime
) -> str:
    """Draw the order's id `ZT-YYYYMMDD-NNN` (`now` in the shop's time zone) before tx 1, on
    PostgreSQL (`hot_rows_apart`); a slot already seen full is refused here without drawing.

    The check and the draw are one statement that commits by itself (AUTOCOMMIT): the day's
    counter row is locked for that statement alone, not until this process gets round to
    sending COMMIT. In the rush the loop was busy, that took tens of milliseconds, and up to
    ten checkouts at a time queued on the row, each holding a pooled connection the next
    customer's screen was waiting for. A slot seen full costs one more read (how many seats
    are left, for the answer) and draws nothing.
    """
    number = await inventory.next_order_number_unless_full(
        sessionmaker, now, order.visit_date, order.slot_time, order.seats
    )
    if number is None:  # full: how many are left, for the customer (nothing was drawn)
        async with sessionmaker() as session:
            await sold_out(session, order)
    return order_id_of(now, number)


async def hold_order(
    sessionmaker: async_sessionmaker[AsyncSession], order: ValidOrder, order_id: str
) -> None:
    """Hold the seats of the order tx 1 wrote without them, on PostgreSQL (`hot_rows_apart`);
    SoldOut (nothing held) when they are gone.

    The hold and the order's `seats_held` flag are one statement that commits by itself: the
    slot's row, which every checkout of the slot updates, is locked for that statement alone.
    Held inside tx 1, it stayed locked until this process got round to sending COMMIT; in the
    rush the loop was busy, about five checkouts at a time waited for the row, and a checkout
    took a second or more to answer.
    """
    async with one_statement(sessionmaker) as session:
        if not await inventory.hold_for_order(
            session, order_id, order.visit_date, order.slot_time, order.seats
        ):
            await sold_out(session, order)


async def sold_out(session: AsyncSession, order: ValidOrder) -> NoReturn:
    """Raise SoldOut with how many seats the order's slot has left, for the customer."""
    slot = (await inventory.seats_on(session, order.visit_date)).get(order.slot_time)
    raise SoldOut(slot.left if slot else 0)


async def number_in(session: AsyncSession, now: datetime) -> str:
    """Draw the order's id inside tx 1 (SQLite: rolled back with it, so no gap)."""
    return order_id_of(now, await inventory.next_order_number(session, now))


def order_id_of(now: datetime, number: int) -> str:
    """Return `ZT-YYYYMMDD-NNN` for the day of `now` (the shop's time zone)."""
    return f"ZT-{now:%Y%m%d}-{number:03d}"


async def ticket_draft(  # noqa: PLR0913 - tx 1 needs the whole shop
    session: AsyncSession,
    user: User,
    payment_id: str,
    purchase: TicketPurchase,
    order_id: str,
    *,
    catalog: Catalog,
    clock: Clock,
    config: CheckoutConfig,
    hold: bool = True,
) -> tuple[Draft, str]:
    """Write the order `order_id` and its pending payment, hold the seats last; return the
    draft and the order id (SoldOut, rolling all of it back, when the seats are gone).

    `hold=False` (PostgreSQL, `hot_rows_apart`): the order is written without its seats, which
    `hold_order` takes after the commit, in a statement of its own.
    """
    tickets = catalog.tickets
    shop = catalog.shop
    order = purchase.order
    email, phone = purchase.email, purchase.phone
    now = clock.now()
    is_test = is_test_user(user.id, config.test_user_ids)
    # No hoarding: one customer's unpaid seats, across all their pending orders, stay
    # within one order's maximum. The checkout flow locked the user row in this transaction,
    # so two checkouts of one user cannot both pass this sum.
    unpaid = await payments_repo.unpaid_seats(session, user.id)
    if unpaid + order.seats > tickets.max_tickets_per_order:
        raise TooManyUnpaidSeats(unpaid, tickets.max_tickets_per_order)
    # A plain read (no lock): a full slot is refused before anything is written, and the
    # slot's row is created only when missing (that INSERT would wait for the row's lock).
    slot = (await inventory.seats_on(session, order.visit_date)).get(order.slot_time)
    if slot is not None and slot.left < order.seats:
        raise SoldOut(slot.left)
    if slot is None:
        await inventory.ensure_slot(
            session, order.visit_date, order.slot_time, tickets.capacity_per_slot
        )
    amount = shop.test_price if is_test else order.total
    base = purchase.description or f"Билеты в зоопарк на {order.visit_date:%d.%m.%Y}"
    text = mark(base, is_test=is_test, sandbox=config.sandbox)
    expires_at = now + timedelta(minutes=config.ttl_minutes)
    receipt_email, receipt_phone = receipt_contact(user, email, phone, config.fallback_email_domain)
    await write(
        session,
        _NEW_ORDER,
        {
            "id": order_id,
            "user_id": user.id,
            "visit_date": order.visit_date,
            "slot_time": order.slot_time,
            "seats": order.seats,
            "seats_held": hold,
            "total": amount,
            "email": email,
            "phone": phone,
            "status": OrderStatus.PENDING,
            "created_at": now,
        },
    )
    for line in order.lines:
        await write(
            session,
            _NEW_ITEM,
            {
                "order_id": order_id,
                "ticket_type": line.ticket_type,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "visit_date": order.visit_date,
                "visit_time": order.slot_time,
            },
        )
    await write_pending_payment(
        session,
        {
            "id": payment_id,
            "kind": PaymentKind.TICKETS,
            "user_id": user.id,
            "order_id": order_id,
            "amount": amount,
            "is_test": is_test,
            "description": text,
            "return_url": purchase.return_url,
            "cancel_url": purchase.cancel_url,
            "session_id": purchase.session_id,
            "customer_email": email,
            "customer_phone": phone,
            "source": purchase.source,
            "expires_at": expires_at,
        },
        now=now,
        detail={"order_id": order_id, "seats": order.seats},
    )
    # Last, right before the commit: the slot's row stays locked from here to the commit.
    if hold and not await inventory.hold_seats(
        session,
        order.visit_date,
        order.slot_time,
        order.seats,
        tickets.capacity_per_slot,
        ensure=False,
    ):
        await sold_out(session, order)
    if is_test:
        lines = [single_line(catalog, PaymentKind.TICKETS, text, amount)]
    else:
        lines = ticket_lines(
            catalog,
            ((line.ticket_type, line.quantity, line.unit_price) for line in order.lines),
            order.visit_date,
            order.slot_time,
        )
    request = PaymentRequest(
        idempotence_key=payment_id,
        amount=amount,
        description=text,
        return_url=purchase.return_url,
        capture=False,
        metadata={
            "payment_id": payment_id,
            "userId": user.id,
            "order_id": order_id,
            "kind": PaymentKind.TICKETS.value,
        },
        receipt_lines=lines,
        receipt_email=receipt_email,
        receipt_phone=receipt_phone,
    )
    return Draft(payment_id, request, expires_at, is_test), order_id
