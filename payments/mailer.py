"""Ticket e-mails over SMTP (stdlib smtplib in a worker thread); off when SMTP_HOST is unset.

A send says how it went (MailResult) so the outbox can tell a refused address (give up) from a
server that is down for a while (try again later).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from payments.emails import deliverable_form

log = logging.getLogger(__name__)

SMTPS_PORT = 465
PERMANENT_SMTP_CODES = range(500, 600)


class MailResult(StrEnum):
    """How sending one message ended."""

    SENT = "sent"
    REFUSED = "refused"  # the server refused the address or the message for good (5xx)
    FAILED = "failed"  # the server could not be reached or answered 4xx: worth another try
    OFF = "off"  # e-mail is not configured


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to a message."""

    filename: str
    content: bytes
    maintype: str = "image"
    subtype: str = "png"


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to send mail."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 20.0


class SmtpMailer:
    """Send mail through an SMTP server."""

    def __init__(self, config: SmtpConfig) -> None:
        """Keep the server settings."""
        self._config = config

    async def send(
        self, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()
    ) -> MailResult:
        """Send one message and say how it went (failures are logged, never raised)."""
        message = EmailMessage()
        message["From"] = self._config.sender
        message["To"] = deliverable_form(to)
        message["Subject"] = subject
        message.set_content(body)
        for item in attachments:
            message.add_attachment(
                item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename
            )
        try:
            await asyncio.to_thread(self._deliver, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = all(code in PERMANENT_SMTP_CODES for code in codes)
            log.warning("e-mail to %s refused: %s", to, exc.recipients)
            return MailResult.REFUSED if permanent else MailResult.FAILED
        except smtplib.SMTPDataError as exc:  # the message itself refused
            log.warning("e-mail to %s refused: %s %r", to, exc.smtp_code, exc.smtp_error)
            if exc.smtp_code in PERMANENT_SMTP_CODES:
                return MailResult.REFUSED
            return MailResult.FAILED
        except (OSError, smtplib.SMTPException) as exc:
            # Unreachable, or our own login or sender refused: a matter of time or settings.
            log.warning("e-mail to %s failed: %s", to, exc)
            return MailResult.FAILED
        log.info("e-mail sent to %s (%d attachments)", to, len(attachments))
        return MailResult.SENT

    def _deliver(self, message: EmailMessage) -> None:
        config = self._config
        if config.port == SMTPS_PORT:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=config.timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            if config.starttls and config.port != SMTPS_PORT:
                client.starttls(context=ssl.create_default_context())
            if config.user:
                client.login(config.user, config.password or "")
            client.send_message(message)


class NoMailer:
    """E-mail is off (no SMTP_HOST): say so in the log, never fail."""

    async def send(
        self, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()
    ) -> MailResult:
        """Log that the message was not sent."""
        log.info("e-mail is off (SMTP_HOST unset): not sending %r to %s", subject, to)
        return MailResult.OFF
