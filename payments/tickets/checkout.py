"""Ticket checkout, tx 1: hold the seats, write the order and its pending two-stage payment.

In a sale rush every checkout of a slot updates the same two rows: the slot's inventory and
the day's order counter. On PostgreSQL such a row stays locked until its transaction ends, and
every checkout waiting for it holds a pooled connection meanwhile. So there the order number is
drawn before tx 1 in a statement of its own, and tx 1 writes the order and payment first and
holds the seats last, right before its commit: the slot's row is locked for one statement and
the commit, not for the whole transaction (the rush on PostgreSQL exhausted the pool and
answered updates in seconds). On SQLite, whose writers take turns anyway, the number is drawn
inside tx 1: one write transaction fewer, each of which waited its turn for the writer. A
refused or failed tx 1 leaves a gap in the day's order numbers on PostgreSQL, never a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, OrderItem, Payment, User
from db.repositories import inventory
from db.repositories import payments as payments_repo
from payments.catalog import Catalog
from payments.checkout.draft import CheckoutConfig, Draft, add_pending_payment, receipt_contact
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


def numbers_apart(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Whether order numbers are drawn before tx 1 (PostgreSQL) rather than inside it."""
    bind = sessionmaker.kw.get("bind")
    return bind is not None and bind.dialect.name == "postgresql"


async def number_order(
    sessionmaker: async_sessionmaker[AsyncSession], order: ValidOrder, now: datetime
) -> str:
    """Draw the order's id `ZT-YYYYMMDD-NNN` (`now` in the shop's time zone) before tx 1, on
    PostgreSQL (`numbers_apart`); a slot already seen full is refused here without drawing.

    The check and the draw are one statement that commits by itself (AUTOCOMMIT): the day's
    counter row is locked for that statement alone, not until this process gets round to
    sending COMMIT. In the rush the loop was busy, that took tens of milliseconds, and up to
    ten checkouts at a time queued on the row, each holding a pooled connection the next
    customer's screen was waiting for. A slot seen full costs one more read (how many seats
    are left, for the answer) and draws nothing.
    """
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        number = await inventory.next_order_number_unless_full(
            session, now, order.visit_date, order.slot_time, order.seats
        )
        if number is None:  # full: how many are left, for the customer (nothing was drawn)
            slot = (await inventory.seats_on(session, order.visit_date)).get(order.slot_time)
            raise SoldOut(slot.left if slot else 0)
        await session.commit()
    return order_id_of(now, number)


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
) -> tuple[Draft, str]:
    """Write the order `order_id` and its pending payment, hold the seats last; return the
    draft and the order id (SoldOut, rolling all of it back, when the seats are gone)."""
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
    session.add(
        Order(
            id=order_id,
            user_id=user.id,
            visit_date=order.visit_date,
            slot_time=order.slot_time,
            seats=order.seats,
            seats_held=True,
            total=amount,
            email=email,
            phone=phone,
            status=OrderStatus.PENDING,
            created_at=now,
            items=[
                OrderItem(
                    ticket_type=line.ticket_type,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    visit_date=order.visit_date,
                    visit_time=order.slot_time,
                )
                for line in order.lines
            ],
        )
    )
    await session.flush()
    add_pending_payment(
        session,
        Payment(
            id=payment_id,
            kind=PaymentKind.TICKETS,
            user_id=user.id,
            order_id=order_id,
            amount=amount,
            is_test=is_test,
            description=text,
            return_url=purchase.return_url,
            cancel_url=purchase.cancel_url,
            session_id=purchase.session_id,
            customer_email=email,
            customer_phone=phone,
            source=purchase.source,
            expires_at=expires_at,
        ),
        now=now,
        detail={"order_id": order_id, "seats": order.seats},
    )
    await session.flush()
    # Last, right before the commit: the slot's row stays locked from here to the commit.
    held = await inventory.hold_seats(
        session,
        order.visit_date,
        order.slot_time,
        order.seats,
        tickets.capacity_per_slot,
        ensure=False,
    )
    if not held:
        slot = (await inventory.seats_on(session, order.visit_date)).get(order.slot_time)
        raise SoldOut(slot.left if slot else 0)
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
