"""Issue the tickets of a paid order: one code per admitted person, then QR codes by e-mail."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, Payment, Ticket
from db.repositories import payments as payments_repo
from payments.catalog import Catalog
from payments.i18n import t
from payments.mailer import Attachment, MailResult
from payments.ports import IssuedTicket, Mailer, Recipient, TicketsIssued
from payments.receipts import ticket_title
from payments.tickets.codes import new_ticket_code
from payments.tickets.qr import qr_png
from payments.tickets.signing import TicketSigner
from payments.types import OrderStatus, TicketStatus


async def issue_tickets(
    session: AsyncSession,
    payment: Payment,
    recipient: Recipient,
    now: datetime,
    signer: TicketSigner,
) -> TicketsIssued:
    """Issue one ticket per admitted person and mark the order paid; return the customer's note.

    Each ticket's QR content is signed here, test tickets flagged as such.
    """
    order = await session.get(Order, payment.order_id)
    assert order is not None  # noqa: S101 - a ticket payment always has its order
    issued: list[IssuedTicket] = []
    for item in order.items:
        for _ in range(item.quantity):
            code = new_ticket_code()
            session.add(
                Ticket(
                    code=code,
                    order_id=order.id,
                    payment_id=payment.id,
                    user_id=payment.user_id,
                    ticket_type=item.ticket_type,
                    visit_date=order.visit_date,
                    slot_time=order.slot_time,
                    status=TicketStatus.VALID,
                    created_at=now,
                )
            )
            qr = signer.content(
                code, order.visit_date, order.slot_time, item.ticket_type, is_test=payment.is_test
            )
            issued.append(
                IssuedTicket(code, item.ticket_type, order.visit_date, order.slot_time, qr)
            )
    order.status = OrderStatus.PAID
    order.seats_held = True
    await payments_repo.set_fields(
        session, payment.id, extra={**(payment.extra or {}), "qr_codes_issued": True}
    )
    return TicketsIssued(
        recipient=recipient,
        order_id=order.id,
        email=order.email,
        tickets=tuple(issued),
    )


def _qr_attachments(note: TicketsIssued) -> list[Attachment]:
    return [
        Attachment(f"ticket-{index}-{ticket.code}.png", qr_png(ticket.qr))
        for index, ticket in enumerate(note.tickets, start=1)
    ]


async def mail_tickets(mailer: Mailer, catalog: Catalog, note: TicketsIssued) -> MailResult:
    """E-mail the issued tickets, one signed QR image per ticket, in the customer's language.

    The QR images are drawn in a worker thread: CPU work stays off the event loop.
    """
    lang = note.recipient.language
    shop = catalog.shop.name
    lines = [
        t(
            lang,
            "mail_ticket_line",
            title=ticket_title(catalog, ticket.ticket_type, lang),
            date=f"{ticket.visit_date:%d.%m.%Y}",
            time=ticket.slot_time,
            code=ticket.code,
        )
        for ticket in note.tickets
    ]
    body = t(
        lang,
        "mail_tickets_body",
        order_id=note.order_id,
        count=len(note.tickets),
        lines="\n".join(lines),
        shop=shop,
    )
    attachments = await asyncio.to_thread(_qr_attachments, note)
    subject = t(lang, "mail_tickets_subject", shop=shop, order_id=note.order_id)
    return await mailer.send(note.email or "", subject, body, attachments)
