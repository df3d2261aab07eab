"""Payments: guarded state transitions, look-ups, events. Statuses are plain strings here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Insert,
    Table,
    Update,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from db.models import Order, Payment, PaymentEvent, User
from db.writes import one_statement, read, write, write_alone

OPEN = ("pending", "waiting_for_capture")


async def get_payment(session: AsyncSession, payment_id: str) -> Payment | None:
    """Return our payment by our id."""
    return await session.get(Payment, payment_id)


# The look-up at the start of every payment notification: our payment by YooKassa's id or by
# ours, with its customer's language. Columns, not an entity: loading a mapped object through
# an ORM session cost five times the read itself. `payment_of` turns a row into a Payment.
_PAYMENTS = cast(Table, Payment.__table__)
_USERS = cast(Table, User.__table__)
_ATTRIBUTES = tuple(attribute.key for attribute in Payment.__mapper__.column_attrs)
BY_EITHER_ID = (
    select(
        *(Payment.__mapper__.column_attrs[key].columns[0] for key in _ATTRIBUTES),
        _USERS.c.language,
    )
    .select_from(_PAYMENTS.outerjoin(_USERS, _USERS.c.id == _PAYMENTS.c.user_id))
    .where(
        or_(
            _PAYMENTS.c.provider_id == bindparam("provider_id"),
            _PAYMENTS.c.id == bindparam("ours"),
        )
    )
)


_NEW_PAYMENT = Payment.__mapper__.class_manager.new_instance


def payment_of(row: Sequence[Any]) -> tuple[Payment, str | None]:
    """Return the payment (not attached to any session) and the language of a BY_EITHER_ID row.

    Its values go straight into the instance's dict, as the ORM's own loading puts a row's: the
    mapped constructor set each of the 30 attributes through its instrumentation, recording a
    change for each: 6.5 % of the time the interpreter was held while notifications came in.
    """
    payment = _NEW_PAYMENT()
    payment.__dict__.update(zip(_ATTRIBUTES, row, strict=False))
    return payment, row[len(_ATTRIBUTES)]


async def get_by_provider_id(session: AsyncSession, provider_id: str) -> Payment | None:
    """Return our payment by YooKassa's id."""
    result = await session.execute(select(Payment).where(Payment.provider_id == provider_id))
    return result.scalar_one_or_none()


async def open_payments_since(
    session: AsyncSession, user_id: str, since: datetime
) -> tuple[int, datetime | None]:
    """Return how many unfinished payments a user started since a moment, and the oldest one."""
    [(count, oldest)] = await read(session, _OPEN_SINCE, {"p_user": user_id, "p_since": since})
    if isinstance(oldest, str):  # aggregate results bypass the column type on SQLite
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), oldest


async def unpaid_seats(session: AsyncSession, user_id: str) -> int:
    """Return how many seats a user's unpaid (still pending) ticket payments hold, or are about
    to: on PostgreSQL an order's seats are held just after its tx 1 (payments/tickets/checkout.py),
    and the customer's next checkout, waiting for that tx 1, must count them already."""
    [(seats,)] = await read(session, _UNPAID_SEATS, {"p_user": user_id})
    return int(seats)


# Built once, as every checkout asks both inside its tx 1 (see db/repositories/inventory.py).
_USER = bindparam("p_user", type_=_PAYMENTS.c.user_id.type)
_OPEN_SINCE = select(func.count(), func.min(_PAYMENTS.c.created_at)).where(
    _PAYMENTS.c.user_id == _USER,
    # Not IN (…): an expanding parameter is rewritten per call, and SQLite's plan refuses it.
    or_(*(_PAYMENTS.c.status == status for status in OPEN)),
    _PAYMENTS.c.created_at >= bindparam("p_since", type_=_PAYMENTS.c.created_at.type),
)
_UNPAID_SEATS = (
    select(func.coalesce(func.sum(Order.__table__.c.seats), 0))
    .select_from(_PAYMENTS.join(Order.__table__, Order.__table__.c.id == _PAYMENTS.c.order_id))
    .where(_PAYMENTS.c.user_id == _USER, _PAYMENTS.c.status == "pending")
)


async def transition(
    session: AsyncSession,
    payment_id: str,
    *,
    to: str,
    from_statuses: Sequence[str],
    revive_reasons: Iterable[str] = (),
    values: dict[str, Any] | None = None,
) -> bool:
    """Move a payment to a status if it is in one of `from_statuses`; return whether it moved.

    One conditional UPDATE: when two workers race, exactly one sees rowcount 1. A canceled
    payment whose cancel reason is in `revive_reasons` may move too (YooKassa took the money
    after our timer gave up on it).
    """
    fields = values or {}
    statement = _transition_statement(tuple(from_statuses), tuple(revive_reasons), tuple(fields))
    params = {"payment_id_": payment_id, "to_": to} | {f"{k}_": v for k, v in fields.items()}
    return (await write(session, statement, params)).rowcount == 1


_TransitionKey = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_TRANSITIONS: dict[_TransitionKey, Update] = {}


def _transition_statement(
    from_statuses: tuple[str, ...], revivable: tuple[str, ...], fields: tuple[str, ...]
) -> Update:
    """Return the transition's UPDATE for this shape, built once (values are bound per call).

    Building the statement (the ORM's bulk-update path, IN lists, eight bound columns) cost
    more CPU than running it; a payment notification runs one, under the write lock. A Core
    UPDATE of the table, made once per shape, is compiled once and then only executed. The
    statuses are fixed in the statement, not an IN list expanded on every execution.
    """
    key = (from_statuses, revivable, fields)
    statement = _TRANSITIONS.get(key)
    if statement is not None:
        return statement
    table = cast(Table, Payment.__table__)
    condition: ColumnElement[bool] = or_(*(table.c.status == status for status in from_statuses))
    if revivable:
        condition = or_(
            condition,
            and_(
                table.c.status == "canceled",
                or_(*(table.c.cancel_reason == reason for reason in revivable)),
            ),
        )
    # `fields` are the model's attribute names; a few differ from their column's (extra is
    # stored in "metadata"), so each is looked up through the mapper.
    columns = Payment.__mapper__.columns
    assignments: dict[Any, Any] = {table.c.status: bindparam("to_", type_=table.c.status.type)}
    for name in fields:
        column = columns[name]
        assignments[column] = bindparam(f"{name}_", type_=column.type)
    statement = (
        update(table)
        .where(table.c.id == bindparam("payment_id_", type_=table.c.id.type), condition)
        .values(assignments)
    )
    _TRANSITIONS[key] = statement
    return statement


async def set_fields(session: AsyncSession, payment_id: str, **values: Any) -> None:
    """Set plain fields of a payment (no status change)."""
    await session.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def add_event(
    session: AsyncSession,
    *,
    payment_id: str | None,
    provider_id: str | None,
    source: str,
    event: str,
    status_before: str | None = None,
    status_after: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime,
) -> None:
    """Record an observation or a change of a payment."""
    session.add(
        PaymentEvent(
            payment_id=payment_id,
            provider_id=provider_id,
            source=source,
            event=event,
            status_before=status_before,
            status_after=status_after,
            detail=detail or {},
            created_at=at,
        )
    )


async def set_fields_with_event(
    sessionmaker: async_sessionmaker[AsyncSession],
    payment_id: str,
    values: dict[str, Any],
    *,
    source: str,
    event: str,
    status_after: str | None,
    at: datetime,
) -> None:
    """Set plain fields of a payment and record an event about it (its provider id from the
    row as updated), committed.

    On PostgreSQL one statement, the UPDATE's RETURNING feeding the event's INSERT, that
    commits by itself (`write_alone`: a plan on an AUTOCOMMIT connection, no ORM session): one
    round trip instead of four (BEGIN, two statements, COMMIT), each of which waited a turn of
    a busy event loop in a sale rush. On SQLite, whose statements run in place, the two
    statements in one transaction.
    """
    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        async with one_statement(sessionmaker) as session:
            await set_fields(session, payment_id, **values)
            await record_event(
                session,
                payment_id=payment_id,
                provider_id=values.get("provider_id"),
                source=source,
                event=event,
                status_after=status_after,
                at=at,
            )
        return
    statement = _fields_with_event(tuple(values), source, event, status_after)
    params = {f"v_{key}": value for key, value in values.items()}
    await write_alone(sessionmaker, statement, {**params, "p_payment": payment_id, "p_at": at})


@lru_cache(maxsize=64)
def _fields_with_event(
    keys: tuple[str, ...], source: str, event: str, status_after: str | None
) -> Insert:
    """The statement of set_fields_with_event on PostgreSQL for these fields, built once: a
    checkout runs it for every payment, and building it cost more than running it."""
    updated = (
        update(_PAYMENTS)
        .where(_PAYMENTS.c.id == bindparam("p_payment", type_=_PAYMENTS.c.id.type))
        .values({key: bindparam(f"v_{key}", type_=_PAYMENTS.c[key].type) for key in keys})
        .returning(_PAYMENTS.c.id, _PAYMENTS.c.provider_id)
        .cte("updated")
    )
    at = bindparam("p_at", type_=PaymentEvent.__table__.c.created_at.type)
    return events_for(updated, source=source, event=event, status_after=status_after, at=at)


EVENT_COLUMNS = (
    "payment_id",
    "provider_id",
    "source",
    "event",
    "status_before",
    "status_after",
    "detail",
    "created_at",
)


def events_for(
    rows: FromClause,
    *,
    source: str,
    event: str,
    status_before: str | None = None,
    status_after: str | None,
    at: datetime | ColumnElement[Any],
    where: ColumnElement[bool] | None = None,
) -> Insert:
    """The INSERT … SELECT of one event (no detail) for each of `rows` matching `where`: rows
    with a payment's `id` and `provider_id`, a table or an UPDATE's RETURNING. `at`: a time,
    or a parameter of a statement built once."""
    columns = PaymentEvent.__table__.c
    chosen = select(
        rows.c.id,
        rows.c.provider_id,
        literal(source, columns.source.type),
        literal(event, columns.event.type),
        literal(status_before, columns.status_before.type),
        literal(status_after, columns.status_after.type),
        literal({}, columns.detail.type),
        at if isinstance(at, ColumnElement) else literal(at, columns.created_at.type),
    ).select_from(rows)
    if where is not None:
        chosen = chosen.where(where)
    # The table's, not the entity's: a Core statement, which runs as a plan (db/plan.py).
    return insert(cast(Table, PaymentEvent.__table__)).from_select(EVENT_COLUMNS, chosen)


async def record_event(
    session: AsyncSession,
    *,
    payment_id: str | None,
    provider_id: str | None,
    source: str,
    event: str,
    status_before: str | None = None,
    status_after: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime,
) -> None:
    """Record an event as `add_event` does, written at once by an INSERT built once.

    For the payment notification's path: an object added to the session costs a unit-of-work
    flush at commit, several times the CPU of the one-row INSERT it becomes.
    """
    await write(
        session,
        _ADD_EVENT,
        {
            "payment_id": payment_id,
            "provider_id": provider_id,
            "source": source,
            "event": event,
            "status_before": status_before,
            "status_after": status_after,
            "detail": detail or {},
            "created_at": at,
        },
    )


_ADD_EVENT = insert(cast(Table, PaymentEvent.__table__))


async def events_of(session: AsyncSession, payment_id: str) -> list[PaymentEvent]:
    """Return a payment's events, oldest first."""
    result = await session.execute(
        select(PaymentEvent).where(PaymentEvent.payment_id == payment_id).order_by(PaymentEvent.id)
    )
    return list(result.scalars())


async def live_pending(
    session: AsyncSession, user_id: str, kind: str, *, source: str, after: datetime
) -> list[Payment]:
    """Return a user's pending payments of a kind from a source still payable after a moment."""
    result = await session.execute(
        _LIVE_PENDING,
        {"p_user": user_id, "p_kind": kind, "p_source": source, "p_after": after},
    )
    return list(result.scalars())


_LIVE_PENDING = (
    select(Payment)
    .where(
        Payment.user_id == bindparam("p_user"),
        Payment.kind == bindparam("p_kind"),
        Payment.source == bindparam("p_source"),
        Payment.status == "pending",
        Payment.expires_at > bindparam("p_after", type_=_PAYMENTS.c.expires_at.type),
    )
    .order_by(Payment.created_at.desc())
)


GIVEN_UP_EVENTS = ("expired", "canceled_by_user")


async def was_given_up(session: AsyncSession, payment_id: str) -> bool:
    """Return whether we had given up on a payment (expired, canceled by its user) at some point."""
    return bool(await read(session, _GIVEN_UP, {"payment_id": payment_id}))


# Built once: every succeeded payment asks, inside its write transaction.
_GIVEN_UP = (
    select(PaymentEvent.id)
    .where(
        PaymentEvent.payment_id == bindparam("payment_id"),
        or_(*(PaymentEvent.event == event for event in GIVEN_UP_EVENTS)),
    )
    .limit(1)
)
