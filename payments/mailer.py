"""Ticket e-mails over SMTP (stdlib smtplib in a worker thread); off when SMTP_HOST is unset."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from payments.emails import deliverable_form

log = logging.getLogger(__name__)

SMTPS_PORT = 465


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
    ) -> bool:
        """Send one message; return whether the server accepted it (failures are logged)."""
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
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("e-mail to %s failed: %s", to, exc)
            return False
        log.info("e-mail sent to %s (%d attachments)", to, len(attachments))
        return True

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
    ) -> bool:
        """Log that the message was not sent."""
        log.info("e-mail is off (SMTP_HOST unset): not sending %r to %s", subject, to)
        return False
