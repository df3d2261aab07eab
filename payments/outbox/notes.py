"""The notes of payments/ports.py as outbox payloads, and back.

A note is written to the outbox in the transaction of the change it tells about (`enqueue_note`),
under the name of the Notifier method that says it (the row's `kind`). Decimals travel as
"2500.00", datetimes and dates as ISO strings. `note_deliverers` turns any Notifier (the log
notifier when the bot is off, a test's recorder) into deliverers for the lane; the Telegram
ones live in bot/outbox_delivery.py.
"""

from __future__ import annotations

import dataclasses
import logging
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any, Union

from sqlalchemy.ext.asyncio import AsyncSession

from payments.catalog import Catalog
from payments.i18n import prepare
from payments.money import wire
from payments.outbox.outcomes import Deliver, Envelope, Outcome, Sent
from payments.outbox.store import CHANNEL_EMAIL, enqueue, enqueue_many
from payments.ports import (
    CustomerNotifier,
    Mailer,
    Notifier,
    PaymentCanceled,
    RefundMade,
    RenewalFailed,
    SubscriptionActivated,
    SubscriptionEnded,
    SubscriptionReminder,
    TicketsIssued,
)

log = logging.getLogger(__name__)

Note = Union[  # noqa: UP007 - a runtime value: get_args() reads it
    SubscriptionActivated,
    PaymentCanceled,
    TicketsIssued,
    SubscriptionReminder,
    SubscriptionEnded,
    RenewalFailed,
    RefundMade,
]

# The row's kind: the name of the Notifier method that says the note.
KINDS: dict[type[Any], str] = {
    SubscriptionActivated: "subscription_activated",
    PaymentCanceled: "payment_canceled",
    TicketsIssued: "tickets_issued",
    SubscriptionReminder: "subscription_reminder",
    SubscriptionEnded: "subscription_ended",
    RenewalFailed: "renewal_failed",
    RefundMade: "refund_made",
}
NOTES: dict[str, type[Any]] = {kind: cls for cls, kind in KINDS.items()}
EMAIL_TICKETS = "email_tickets"
# Notes turned into rows and written by one INSERT at a time (enqueue_notes).
NOTES_AT_ONCE = 250
# The QR album of a ticket order: a row of its own, after the confirmation's text, so a 429 or a
# network error on the album retries the album (the text is not sent twice, the QR codes are
# not lost). Its payload is the TicketsIssued note's.
TICKETS_QR = "tickets_qr"
# Every kind a deliverer turns back into a note, with the note's class.
DELIVERED: dict[str, type[Any]] = {**NOTES, TICKETS_QR: TicketsIssued}


def chat_of(user_id: str) -> int | None:
    """Return the Telegram chat of a user, or None for API-only users such as `test_user_1`."""
    return int(user_id) if user_id.isascii() and user_id.isdigit() else None


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return wire(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_dump(item) for item in value]
    return value


def _load(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _load(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_load(item, element) for element in value)
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value)
    return value


def _build(cls: type[Any], data: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: _load(hints[k], v) for k, v in data.items() if k in names})


def to_payload(note: Note) -> dict[str, Any]:
    """Serialise a note to JSON-safe values."""
    payload = _dump(note)
    assert isinstance(payload, dict)  # noqa: S101 - notes are dataclasses
    return payload


def from_payload(kind: str, payload: Mapping[str, Any]) -> Note:
    """Rebuild the note of `kind` from its payload."""
    cls = DELIVERED.get(kind)
    if cls is None and kind == EMAIL_TICKETS:
        cls = TicketsIssued
    if cls is None:
        raise KeyError(f"no note of kind {kind!r}")
    note: Note = _build(cls, payload)
    return note


def note_row(note: Note, *, dedupe_key: str | None) -> dict[str, Any] | None:
    """Return the outbox row (enqueue's arguments) of a note, or None without a chat."""
    chat = chat_of(note.recipient.user_id)
    if chat is None:
        return None
    kind = KINDS[type(note)]
    return {
        "kind": kind,
        "payload": to_payload(note),
        "chat_id": chat,
        "dedupe_key": f"{kind}:{dedupe_key}" if dedupe_key else None,
    }


async def enqueue_note(session: AsyncSession, note: Note, *, dedupe_key: str | None) -> bool:
    """Write a note for its recipient's chat in the caller's transaction.

    Returns False (nothing written) for a recipient without a chat (API-only users).
    """
    row = note_row(note, dedupe_key=dedupe_key)
    if row is None:
        return False
    await enqueue(session, **row)
    return True


async def enqueue_notes(session: AsyncSession, notes: Iterable[tuple[Note, str]]) -> int:
    """Write many notes (note, dedupe key) in bulk inserts; return how many were written.

    A slice at a time, taken from `notes` as it goes (a generator builds each note only when
    its slice is written): turning 2 000 notes into rows and their INSERT's parameters in one
    go held the event loop for 0.1-0.3 s (the expiry sweep's chunk on PostgreSQL, an admin's
    /stats stalled behind it); each slice's INSERT is awaited, so the loop gets a turn there.
    """
    written = 0
    pending = iter(notes)
    while chunk := list(islice(pending, NOTES_AT_ONCE)):
        rows = [row for note, key in chunk if (row := note_row(note, dedupe_key=key)) is not None]
        if rows:
            written += await enqueue_many(session, rows)
    return written


async def enqueue_tickets(session: AsyncSession, note: TicketsIssued, *, dedupe_key: str) -> bool:
    """Write a ticket order's confirmation and, as a second row, its QR album."""
    row = note_row(note, dedupe_key=dedupe_key)
    if row is None:
        return False
    await enqueue(session, **row)
    album = row | {"kind": TICKETS_QR, "dedupe_key": f"{TICKETS_QR}:{dedupe_key}"}
    await enqueue(session, **album)
    return True


async def enqueue_ticket_mail(
    session: AsyncSession, note: TicketsIssued, *, dedupe_key: str
) -> bool:
    """Write the tickets' e-mail (kind "email_tickets") when the order has an address."""
    if not note.email:
        return False
    await enqueue(
        session,
        kind=EMAIL_TICKETS,
        payload=to_payload(note),
        chat_id=None,
        channel=CHANNEL_EMAIL,
        dedupe_key=f"{EMAIL_TICKETS}:{dedupe_key}",
    )
    return True


def note_deliverers(notifier: Notifier | CustomerNotifier) -> dict[str, Deliver]:
    """Deliver notes through a Notifier whose methods never raise (logging, recording).

    Every kind the notifier has a method for is delivered and counted as sent. The recipient's
    texts are built first, off the loop, unless the notifier says it formats none
    (`formats_texts = False`: the log notifier only logs ids and dates).
    """
    texts = bool(getattr(notifier, "formats_texts", True))
    deliverers: dict[str, Deliver] = {}
    for kind in DELIVERED:
        method = getattr(notifier, kind, None)
        if method is None:
            continue
        deliverers[kind] = _through(kind, method, texts=texts)
    return deliverers


def _through(kind: str, method: Callable[[Any], typing.Awaitable[None]], *, texts: bool) -> Deliver:
    async def deliver(envelope: Envelope) -> Outcome:
        note = from_payload(kind, envelope.payload)
        if texts:  # the first note in a language builds its texts off the loop (payments.i18n)
            await prepare(note.recipient.language)
        await method(note)
        return Sent()

    return deliver


def mail_deliverer(mailer: Mailer, catalog: Catalog) -> Deliver:
    """Deliver "email_tickets" through the mailer (payments/tickets/mail_delivery.py)."""
    from payments.tickets.mail_delivery import ticket_mail_deliverer  # noqa: PLC0415 - cycle

    return ticket_mail_deliverer(mailer, catalog)


__all__ = [
    "EMAIL_TICKETS",
    "DELIVERED",
    "KINDS",
    "TICKETS_QR",
    "Note",
    "chat_of",
    "enqueue_note",
    "enqueue_ticket_mail",
    "from_payload",
    "mail_deliverer",
    "note_deliverers",
    "to_payload",
]
