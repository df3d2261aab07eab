"""Ticket checkout, tx 1: hold the seats, write the order and its pending two-stage payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

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


async def ticket_draft(
    session: AsyncSession,
    user: User,
    payment_id: str,
    purchase: TicketPurchase,
    *,
    catalog: Catalog,
    clock: Clock,
    config: CheckoutConfig,
    tz: ZoneInfo,
) -> tuple[Draft, str]:
    """Hold the seats, write the order and its pending payment; return the draft and order id."""
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
    held = await inventory.hold_seats(
        session, order.visit_date, order.slot_time, order.seats, tickets.capacity_per_slot
    )
    if not held:
        seats = await inventory.seats_on(session, order.visit_date)
        slot = seats.get(order.slot_time)
        raise SoldOut(slot.left if slot else 0)
    number = await inventory.next_order_number(session, now.astimezone(tz))
    order_id = f"ZT-{now.astimezone(tz):%Y%m%d}-{number:03d}"
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
