"""The outbox's deliverer of kind "email_tickets": the tickets' e-mail, sent by the mailer.

What the SMTP server answered decides what the lane does with the row: accepted → sent; the
address or the message refused for good (5xx) → given up with the reason logged; the server
unreachable or answering 4xx → tried again later, with a growing wait (the lane gives up after
its limit of failed attempts).
"""

from __future__ import annotations

from payments.catalog import Catalog
from payments.mailer import MailResult
from payments.outbox.notes import EMAIL_TICKETS, from_payload
from payments.outbox.outcomes import Deliver, Envelope, GiveUp, Outcome, RetryLater, Sent
from payments.ports import Mailer, TicketsIssued

# Wait before another try of a mail the server did not take, by attempt (seconds).
MAIL_BACKOFF = (60.0, 300.0, 900.0, 1800.0, 3600.0)


def ticket_mail_deliverer(mailer: Mailer, catalog: Catalog) -> Deliver:
    """Return the deliverer of "email_tickets" rows (payload: the TicketsIssued note)."""

    async def deliver(envelope: Envelope) -> Outcome:
        # QR drawing is needed only here: imported on the first ticket e-mail, not at start.
        from payments.tickets.issuing import mail_tickets  # noqa: PLC0415

        try:
            note = from_payload(EMAIL_TICKETS, envelope.payload)
        except (KeyError, TypeError, ValueError) as exc:
            return GiveUp(f"payload not readable: {exc!r}")
        if not isinstance(note, TicketsIssued) or not note.email:
            return GiveUp("no e-mail address to send the tickets to")
        result = await mail_tickets(mailer, catalog, note)
        if result is MailResult.SENT:
            return Sent()
        if result is MailResult.REFUSED:
            return GiveUp(f"the mail server refused {note.email}")
        if result is MailResult.OFF:
            return GiveUp("e-mail is off (SMTP_HOST unset)")
        wait = MAIL_BACKOFF[min(max(envelope.attempts - 1, 0), len(MAIL_BACKOFF) - 1)]
        return RetryLater(wait, "the mail server did not take it; trying again later")

    return deliver
