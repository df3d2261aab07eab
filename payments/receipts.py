"""54-FZ receipts: the lines a payment was sold with, and the lines of a refund of it.

YooKassa rejects a refund without a receipt on a shop that sends receipts with its payments
(yookassa.md §5, §7), and every payment of ours is created with one. A refund's receipt names
the customer and the refunded lines, and its lines must add up to exactly the refunded amount.

The lines are rebuilt from what we store (the order's items, the payment's amount and text) by
the same functions checkout uses to build them, so a payment's receipt and its refunds' cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_DOWN, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, Payment, User
from payments.catalog import Catalog
from payments.types import PaymentKind, Receipt, ReceiptLine

CENT = Decimal("0.01")


def ticket_title(catalog: Catalog, code: str, language: str = "ru") -> str:
    """Return a ticket type's title."""
    ticket_type = catalog.tickets.type(code)
    return ticket_type.title(language) if ticket_type else code


def ticket_lines(
    catalog: Catalog,
    items: Iterable[tuple[str, int, Decimal]],
    visit_date: date,
    slot_time: str,
) -> list[ReceiptLine]:
    """Return one receipt line per ticket type of an order: (type, quantity, unit price)."""
    shop = catalog.shop
    return [
        ReceiptLine(
            description=f"{ticket_title(catalog, code)}, {visit_date:%d.%m.%Y} {slot_time}",
            quantity=quantity,
            unit_price=unit_price,
            vat_code=shop.vat_code,
            payment_subject=shop.ticket_payment_subject,
            payment_mode=shop.ticket_payment_mode,
        )
        for code, quantity, unit_price in items
    ]


def single_line(catalog: Catalog, kind: str, description: str, amount: Decimal) -> ReceiptLine:
    """Return the one line of a payment sold as a whole (a plan, a test order, a new amount)."""
    shop = catalog.shop
    if kind == PaymentKind.SUBSCRIPTION:
        subject, mode = shop.plan_payment_subject, shop.plan_payment_mode
    else:
        subject, mode = shop.ticket_payment_subject, shop.ticket_payment_mode
    return ReceiptLine(description, 1, amount, shop.vat_code, subject, mode)


async def receipt_of(
    session: AsyncSession, payment: Payment, catalog: Catalog, fallback_email_domain: str
) -> Receipt:
    """Return the receipt a payment was created with, as checkout built it."""
    lines: list[ReceiptLine] = []
    order = await session.get(Order, payment.order_id) if payment.order_id else None
    if order is not None and not payment.is_test:
        items = [(i.ticket_type, i.quantity, i.unit_price) for i in order.items]
        # An admin may have replaced the amount: such a payment was sold as one line.
        if sum((price * quantity for _, quantity, price in items), Decimal(0)) == payment.amount:
            lines = ticket_lines(catalog, items, order.visit_date, order.slot_time)
    if not lines:
        lines = [single_line(catalog, payment.kind, payment.description, payment.amount)]
    user = await session.get(User, payment.user_id)
    email = payment.customer_email or (user.email if user else None)
    phone = payment.customer_phone or (user.phone if user else None)
    if email:
        return Receipt(tuple(lines), email=email)
    if phone:
        return Receipt(tuple(lines), phone=phone)
    return Receipt(tuple(lines), email=f"{payment.user_id}@{fallback_email_domain}")


def refund_lines(lines: Sequence[ReceiptLine], refund: Decimal) -> tuple[ReceiptLine, ...]:
    """Return the lines of a refund of `refund` out of a payment sold with `lines`.

    A refund of the whole sum returns the lines as sold. A partial refund is a share of every
    line (a goodwill amount: no ticket is returned), one line of quantity 1 per sold line, each
    share rounded down to the kopeck and the remainder put on the last line, so the lines add
    up to exactly `refund`. Lines whose share rounds to nothing are left out.
    """
    totals = [line.unit_price * line.quantity for line in lines]
    paid = sum(totals, Decimal(0))
    if refund == paid:
        return tuple(lines)
    if not 0 < refund < paid:
        raise ValueError(f"a refund of {refund} out of {paid} has no receipt")
    shares = [(refund * total / paid).quantize(CENT, ROUND_DOWN) for total in totals[:-1]]
    shares.append(refund - sum(shares, Decimal(0)))
    return tuple(
        ReceiptLine(
            line.description,
            1,
            share,
            line.vat_code,
            line.payment_subject,
            line.payment_mode,
        )
        for line, share in zip(lines, shares, strict=True)
        if share > 0
    )


def refund_receipt(sold: Receipt, refund: Decimal) -> Receipt:
    """Return the receipt of a refund of `refund` out of a payment sold with `sold`."""
    return Receipt(refund_lines(sold.lines, refund), email=sold.email, phone=sold.phone)
