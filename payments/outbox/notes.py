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
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Union

from sqlalchemy import (
    BigInteger,
    String,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from db.base import UTCDateTime
from db.models_outbox import OutboxMessage
from db.repositories.dialect import insert_for_dialect
from payments.catalog import Catalog
from payments.i18n import prepare
from payments.money import wire
from payments.outbox.outcomes import Deliver, Envelope, Outcome, Sent
from payments.outbox.store import (
    CHANNEL_EMAIL,
    CHANNEL_TELEGRAM,
    COLUMNS,
    PRIORITY_TRANSACTIONAL,
    enqueue,
)
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
# The QR albums of a ticket order: each a row of its own, after the confirmation's text, so a
# 429 or a network error on one album retries that album (neither the text nor an earlier album
# is sent twice, no QR code is lost). Its payload is the TicketsIssued note with the album's
# tickets only.
TICKETS_QR = "tickets_qr"
# The most photos one album (sendMediaGroup) takes.
ALBUM_SIZE = 10
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


# What a note's fields are, for `notes_insert`: an SQL expression per field, a mapping of
# them for a field that is itself a dataclass (the recipient).
Fields = Mapping[str, Any]


def payload_sql(dialect: str, cls: type[Any], fields: Fields) -> ColumnElement[Any]:
    """Return the JSON object `to_payload` writes for a note of `cls`, built by the database.

    Every field of `cls` must be given (KeyError otherwise), so a field added to a note
    cannot be left out of the rows written this way.
    """
    build = func.json_build_object if dialect == "postgresql" else func.json_object
    hints = typing.get_type_hints(cls)
    pairs: list[Any] = []
    for field in dataclasses.fields(cls):
        value = fields[field.name]
        if isinstance(value, Mapping):
            value = payload_sql(dialect, hints[field.name], value)
        # The name is an identifier: written in the statement, not bound (PostgreSQL's
        # json_build_object takes "any", so an untyped parameter would not do).
        pairs += [literal_column(f"'{field.name}'"), value]
    return build(*pairs)


def has_chat(dialect: str, user_id: ColumnElement[str]) -> ColumnElement[bool]:
    """Return the SQL of `chat_of(user_id) is not None`: ASCII digits only."""
    if dialect == "postgresql":
        return user_id.op("~", is_comparison=True)("^[0-9]+$")
    return (user_id != "") & ~user_id.op("GLOB", is_comparison=True)("*[^0-9]*")


def notes_insert(  # noqa: PLR0913 - the note, its rows and how to read them
    dialect: str,
    cls: type[Any],
    rows: FromClause,
    where: ColumnElement[bool],
    *,
    user_id: ColumnElement[str],
    fields: Fields,
    dedupe: ColumnElement[str],
) -> Any:
    """Return the INSERT … SELECT that writes a note of `cls` for every row of `rows`
    matching `where`, to run in the transaction of the change the notes tell about.

    The database builds each payload (`payload_sql`) and skips users without a chat and rows
    whose dedupe key (`dedupe`, after the kind, as `note_row` writes it) exists. No row comes
    into Python: the expiry sweep tells thousands of customers per chunk, and building their
    notes here cost three quarters of the sweep's time. On PostgreSQL `rows` may be the
    RETURNING of an UPDATE in the same statement (`.cte()` of this INSERT).
    """
    kind = KINDS[cls]
    # Named: a statement built once is run with its own time (`written_at`) each time.
    now = bindparam("written_at", datetime.now(UTC), type_=UTCDateTime)
    chosen = (
        select(
            literal(kind, String),
            literal(CHANNEL_TELEGRAM, String),
            cast(user_id, BigInteger),
            literal(PRIORITY_TRANSACTIONAL),
            payload_sql(dialect, cls, fields),
            literal(f"{kind}:", String) + dedupe,
            null(),  # broadcast_id
            literal("pending", String),
            literal(0),
            now,
            now,
        )
        .select_from(rows)
        .where(where, has_chat(dialect, user_id))
    )
    table = OutboxMessage.__table__
    return insert_for_dialect(dialect, table).from_select(COLUMNS, chosen).on_conflict_do_nothing()


async def enqueue_tickets(session: AsyncSession, note: TicketsIssued, *, dedupe_key: str) -> bool:
    """Write a ticket order's confirmation and its QR codes, a row for each album of up to
    ALBUM_SIZE: an album refused for a while is sent again alone (never the ones before it),
    and the chat gets them a second apart like any of its messages."""
    row = note_row(note, dedupe_key=dedupe_key)
    if row is None:
        return False
    await enqueue(session, **row)
    for number, start in enumerate(range(0, len(note.tickets), ALBUM_SIZE), start=1):
        album = dataclasses.replace(note, tickets=note.tickets[start : start + ALBUM_SIZE])
        key = f"{TICKETS_QR}:{dedupe_key}" + (f":{number}" if number > 1 else "")
        await enqueue(
            session, **row | {"kind": TICKETS_QR, "payload": to_payload(album), "dedupe_key": key}
        )
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
    "notes_insert",
    "payload_sql",
    "to_payload",
]
