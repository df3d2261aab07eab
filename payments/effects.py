"""What a succeeded payment gives, written in the transaction that marks it paid.

A plan: its days (a renewal's period continues from the expiry it renews) and, with the
customer's consent, the saved method for renewals. Tickets: issued and signed, with their QR
album (and, SMTP configured, their e-mail). Either way the customer's confirmation goes into
the outbox in the same transaction, so it is sent exactly when the state is committed; a
payment paid after we had given up on it says so (`late`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment
from db.repositories import payments as payments_repo
from payments.catalog import Catalog
from payments.outbox.notes import enqueue_note, enqueue_ticket_mail, enqueue_tickets
from payments.ports import Recipient
from payments.subscriptions.activation import activate_subscription
from payments.subscriptions.consent import keep_saved_method
from payments.subscriptions.outcomes import renewal_paid
from payments.tickets.issuing import issue_tickets
from payments.tickets.signing import TicketSigner
from payments.types import PaymentKind, ProviderPayment


class Effects:
    """Deliver what a succeeded payment bought, inside its transaction."""

    def __init__(self, *, catalog: Catalog, signer: TicketSigner, mail_tickets: bool) -> None:
        """Keep the catalog (plans' days), the QR signer and whether tickets are mailed too."""
        self._catalog = catalog
        self._signer = signer
        self._mail_tickets = mail_tickets

    async def apply(
        self,
        session: AsyncSession,
        payment: Payment,
        recipient: Recipient,
        *,
        now: datetime,
        remote: ProviderPayment | None = None,
    ) -> None:
        """Write the payment's effects and its customer's messages in `session`.

        `remote` (YooKassa's view; None for Stars) says whether a method was saved.
        """
        late = await payments_repo.was_given_up(session, payment.id)
        if payment.kind == PaymentKind.SUBSCRIPTION:
            continues = await renewal_paid(session, payment, now=now)
            activated = await activate_subscription(
                session, payment, recipient, catalog=self._catalog, now=now, continues=continues
            )
            if remote is not None:
                await keep_saved_method(session, payment, remote, now=now)
            await enqueue_note(session, replace(activated, late=late), dedupe_key=payment.id)
            return
        issued = replace(
            await issue_tickets(session, payment, recipient, now, self._signer), late=late
        )
        await enqueue_tickets(session, issued, dedupe_key=payment.id)
        if self._mail_tickets:
            await enqueue_ticket_mail(session, issued, dedupe_key=payment.id)
