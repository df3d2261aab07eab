"""The ticket e-mail's outbox deliverer (payments/tickets/mail_delivery.py) against a real SMTP
server (aiosmtpd on loopback): delivered, an address refused for good, a server that is down.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from payments.catalog import load_catalog
from payments.mailer import SmtpConfig, SmtpMailer
from payments.outbox.notes import EMAIL_TICKETS, to_payload
from payments.outbox.outcomes import Envelope, GiveUp, RetryLater, Sent
from payments.ports import IssuedTicket, Recipient, TicketsIssued
from payments.tickets.mail_delivery import ticket_mail_deliverer

REFUSED = "nobody@example.com"


class Box:
    """Keeps every message; refuses one address with 550 (no such mailbox)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[int, Box]]:
    port, box = _free_port(), Box()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


def _envelope(email: str, attempts: int = 1) -> Envelope:
    note = TicketsIssued(
        recipient=Recipient("4001", "ru"),
        order_id="ZT-1",
        email=email,
        tickets=(IssuedTicket("AB12CD", "adult", date(2030, 5, 1), "10:00", "signed-qr-content"),),
    )
    return Envelope(
        id=1,
        kind=EMAIL_TICKETS,
        chat_id=None,
        payload=to_payload(note),
        attempts=attempts,
        broadcast_id=None,
    )


def _mailer(port: int) -> SmtpMailer:
    return SmtpMailer(SmtpConfig("127.0.0.1", port, "zoo@example.com", starttls=False, timeout=5))


async def test_the_tickets_are_mailed_with_their_qr_codes(smtp: tuple[int, Box]) -> None:
    port, box = smtp
    deliver = ticket_mail_deliverer(_mailer(port), load_catalog())
    assert await deliver(_envelope("olga@example.com")) == Sent()
    (message,) = box.messages
    assert message["To"] == "olga@example.com"
    assert "ZT-1" in str(message["Subject"])
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["ticket-1-AB12CD.png"]


async def test_an_address_the_server_refuses_is_given_up(smtp: tuple[int, Box]) -> None:
    port, box = smtp
    deliver = ticket_mail_deliverer(_mailer(port), load_catalog())
    outcome = await deliver(_envelope(REFUSED))
    assert isinstance(outcome, GiveUp)
    assert REFUSED in outcome.reason
    assert box.messages == []


async def test_a_server_that_is_down_is_tried_again_later() -> None:
    deliver = ticket_mail_deliverer(_mailer(_free_port()), load_catalog())
    first = await deliver(_envelope("olga@example.com", attempts=1))
    later = await deliver(_envelope("olga@example.com", attempts=3))
    assert isinstance(first, RetryLater)
    assert isinstance(later, RetryLater)
    assert 0 < first.seconds < later.seconds
    assert not first.rate_limited
