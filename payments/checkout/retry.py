"""Try again after a decline: a new payment for the same order (tx 1 of the checkout flow).

The order keeps its id, lines and prices; its seats are held again if they were given back and
are still free. One order never has two live payments: a second "try again" while the first
new payment is pending gets that payment back (`LivePayment`), and a paid order is refused.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, Payment, User
from db.repositories import inventory
from db.repositories import payments as payments_repo
from payments.catalog import Catalog
from payments.checkout.draft import CheckoutConfig, Draft, add_pending_payment, receipt_contact
from payments.checkout.errors import CheckoutError, SoldOut, TooManyUnpaidSeats
from payments.ports import Clock
from payments.receipts import single_line, ticket_lines
from payments.tickets.rules import TicketRules
from payments.types import OrderStatus, PaymentKind, PaymentRequest, PaymentStatus


class NotRetryable(CheckoutError):
    """The payment cannot be tried again; `reason` says why.

    unknown (not this user's, or no such payment), paid (its order is paid or being paid),
    open (the payment itself is still pending), date_gone (the visit can no longer be booked),
    busy (a new payment for the order is being created right now).
    """

    def __init__(self, reason: str) -> None:
        """Keep the reason."""
        super().__init__(f"payment cannot be retried: {reason}")
        self.reason = reason


class LivePayment(CheckoutError):  # noqa: N818 - a signal, not a failure
    """The order already has a pending payment with its link: that one is reused."""

    def __init__(self, payment_id: str) -> None:
        """Keep the live payment's id."""
        super().__init__(f"order already has pending payment {payment_id}")
        self.payment_id = payment_id


async def retry_target(session: AsyncSession, user_id: str, payment_id: str) -> Payment:
    """Return the user's ended payment to try again (NotRetryable otherwise)."""
    payment = await payments_repo.get_payment(session, payment_id)
    if payment is None or payment.user_id != user_id:
        raise NotRetryable("unknown")
    if payment.status == PaymentStatus.PENDING:
        raise NotRetryable("open")
    if payment.status != PaymentStatus.CANCELED:
        raise NotRetryable("paid")
    return payment


async def _check_no_live_payment(session: AsyncSession, order_id: str) -> None:
    result = await session.execute(
        select(Payment.id, Payment.status, Payment.confirmation_url).where(
            Payment.order_id == order_id,
            Payment.status.in_(
                (
                    PaymentStatus.PENDING,
                    PaymentStatus.WAITING_FOR_CAPTURE,
                    PaymentStatus.SUCCEEDED,
                )
            ),
        )
    )
    for row in result.all():
        if row.status != PaymentStatus.PENDING:
            raise NotRetryable("paid")
        if not row.confirmation_url:
            raise NotRetryable("busy")
        raise LivePayment(row.id)


async def retry_ticket_draft(  # noqa: PLR0913 - tx 1 needs the whole shop
    session: AsyncSession,
    user: User,
    payment_id: str,
    previous_id: str,
    *,
    catalog: Catalog,
    clock: Clock,
    config: CheckoutConfig,
    tz: ZoneInfo,
) -> Draft:
    """Hold the order's seats again (if released) and write its new pending payment."""
    previous = await retry_target(session, user.id, previous_id)
    order = await session.get(Order, previous.order_id) if previous.order_id else None
    if order is None:
        raise NotRetryable("unknown")
    if order.status in (OrderStatus.PAID, OrderStatus.REFUNDED):
        raise NotRetryable("paid")
    await _check_no_live_payment(session, order.id)
    now = clock.now()
    rules = TicketRules(catalog, tz)
    if not (
        rules.day_open(order.visit_date, now)
        and rules.slot_open(order.visit_date, order.slot_time, now)
    ):
        raise NotRetryable("date_gone")
    tickets = catalog.tickets
    limit = tickets.max_tickets_per_order
    if not order.seats_held:
        unpaid = await payments_repo.unpaid_seats(session, user.id)
        if unpaid + order.seats > limit:
            raise TooManyUnpaidSeats(unpaid, limit)
        held = await inventory.hold_seats(
            session,
            order.visit_date,
            order.slot_time,
            order.seats,
            catalog.tickets.capacity_per_slot,
        )
        if not held:
            slot = (await inventory.seats_on(session, order.visit_date)).get(order.slot_time)
            raise SoldOut(slot.left if slot else 0)
        order.seats_held = True
    order.status = OrderStatus.PENDING
    expires_at = now + timedelta(minutes=config.ttl_minutes)
    add_pending_payment(
        session,
        Payment(
            id=payment_id,
            kind=PaymentKind.TICKETS,
            user_id=user.id,
            order_id=order.id,
            amount=previous.amount,
            is_test=previous.is_test,
            description=previous.description,
            return_url=previous.return_url,
            cancel_url=previous.cancel_url,
            customer_email=previous.customer_email,
            customer_phone=previous.customer_phone,
            source=previous.source,
            expires_at=expires_at,
        ),
        now=now,
        detail={"order_id": order.id, "seats": order.seats, "retry_of": previous.id},
    )
    await session.flush()
    if previous.is_test:
        lines = [single_line(catalog, PaymentKind.TICKETS, previous.description, previous.amount)]
    else:
        lines = ticket_lines(
            catalog,
            ((item.ticket_type, item.quantity, item.unit_price) for item in order.items),
            order.visit_date,
            order.slot_time,
        )
    receipt_email, receipt_phone = receipt_contact(
        user, previous.customer_email, previous.customer_phone, config.fallback_email_domain
    )
    request = PaymentRequest(
        idempotence_key=payment_id,
        amount=previous.amount,
        description=previous.description,
        return_url=previous.return_url or "",
        capture=False,
        metadata={
            "payment_id": payment_id,
            "userId": user.id,
            "order_id": order.id,
            "kind": PaymentKind.TICKETS.value,
        },
        receipt_lines=lines,
        receipt_email=receipt_email,
        receipt_phone=receipt_phone,
    )
    return Draft(payment_id, request, expires_at, previous.is_test)
