"""The SQL of the sweeps: the expiry sweep in chunks, the reconcilers' round-robin.

Every list of ids goes to the database as one parameter (`dialect.any_of`): `= ANY(:ids)` on
PostgreSQL, `IN (SELECT value FROM json_each(:ids))` on SQLite, so a chunk of 2 000 is one
short statement compiled once. Statuses are plain strings here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from db.models import Payment, PaymentDeadline
from db.repositories.dialect import among, any_of, in_json
from db.repositories.payments import events_for

PENDING = "pending"
OPEN = (PENDING, "waiting_for_capture")
CANCELED = "canceled"
EXPIRED = "expired"
PAYMENTS = cast(Table, Payment.__table__)  # Core: no ORM bookkeeping per returned row
DEADLINES = cast(Table, PaymentDeadline.__table__)
RETURNED = (
    PAYMENTS.c.id,
    PAYMENTS.c.provider_id,
    PAYMENTS.c.order_id,
    PAYMENTS.c.user_id,
    PAYMENTS.c.kind,
    PAYMENTS.c.chat_message_id,
)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk of the expiry sweep.

    `chosen`: how many due deadlines it took (none: the sweep is done); `expired`: how many
    payments it canceled (their deadlines, and those of payments that had finished meanwhile,
    are off the list); `orders`: the orders of those that had one (the seats to give back);
    `kept`: the due deadlines it left (a payment waiting for capture, or one a webhook moved
    on between the chunk's choice and its UPDATE), which the rest of this sweep passes over.
    """

    chosen: int
    expired: int
    orders: list[str]
    kept: list[str]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _as_utc(moment: Any) -> datetime | None:
    """An aggregate's datetime: SQLite hands back text, the column type is bypassed."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment if isinstance(moment, datetime) else None


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Payment.status == PENDING, Payment.expires_at <= now)


async def overdue_summary(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """Return how many pending payments are past their TTL and when the oldest was created.

    One aggregate over the payments whose deadline has come (`ix_payment_deadlines_expires`),
    each found by its key (`dialect.among`): no row comes into Python.
    """
    due = select(DEADLINES.c.payment_id).where(DEADLINES.c.expires_at <= now)
    result = await session.execute(
        select(func.count(), func.min(PAYMENTS.c.created_at)).where(
            among(_dialect(session), PAYMENTS.c.id, due), PAYMENTS.c.status == PENDING
        )
    )
    count, oldest = result.one()
    return int(count), _as_utc(oldest)


async def deadlines_due(session: AsyncSession, now: datetime) -> int:
    """Return how many deadlines have come, whatever their payments' status."""
    result = await session.execute(
        select(func.count()).select_from(DEADLINES).where(DEADLINES.c.expires_at <= now)
    )
    return int(result.scalar_one())


async def overdue_among(
    session: AsyncSession, now: datetime, provider_ids: Sequence[str]
) -> dict[str, str]:
    """Return, of the provider ids given, those whose payment is pending and overdue, each with
    our id of the payment."""
    if not provider_ids:
        return {}
    result = await session.execute(
        select(Payment.provider_id, Payment.id).where(
            _overdue(now), any_of(_dialect(session), Payment.provider_id, provider_ids)
        )
    )
    return {str(provider_id): str(payment_id) for provider_id, payment_id in result.all()}


# Builds the INSERT … SELECT of the notes telling customers about expired payments, from rows
# with the columns of `RETURNED` matching a condition (payments/jobs.py `expiry_notes`).
NotesOf = Callable[[str, FromClause, ColumnElement[bool]], Any]


async def cancel_overdue(
    session: AsyncSession,
    now: datetime,
    limit: int,
    *,
    skip: Sequence[str] = (),
    notes: NotesOf | None = None,
) -> Chunk:
    """Take up to `limit` deadlines that have come: cancel their payments still pending, with
    an audit event for each (and, with `notes`, the customers' messages), and take the
    deadlines of the canceled and of the already finished payments off the list.

    The chunk is chosen from `payment_deadlines` (the open payments and the last TTL's
    finished ones), never from `payments`: no index of `payments` holds its status, so that
    the UPDATE writes no index entry (a heap-only update on PostgreSQL). No ORDER BY: any due
    rows will do. The payments are reached by their key from a list of ids (`= ANY(ARRAY(…))`
    on PostgreSQL), never by a join the planner could turn into a scan of every payment (as it
    did with no statistics yet on freshly written rows).
    - SQLite: statements in turn, under SQLite's one writer lock (BEGIN IMMEDIATE), each
      built once (`_sqlite_chunk`).
    - PostgreSQL: one statement. The chunk's deadlines are locked first (`FOR UPDATE SKIP
      LOCKED`: rows another worker holds are left to it); the UPDATE checks `status =
      'pending'` again on a payment another transaction changed meanwhile; the audit rows and
      the notes are inserted from its RETURNING; the deadlines of the canceled payments and of
      those the statement saw finished are deleted.
    `skip`: payment ids whose deadlines this sweep leaves alone (those YooKassa has
    authorised or charged, left to fulfilment, and the chunks' `kept`).
    PostgreSQL answers with one row of counts and lists, not a row per payment: reading 2 000
    rows a chunk was most of the service's own time in the sweep.
    """
    dialect = _dialect(session)
    if dialect != "postgresql":
        return await _cancel_overdue_sqlite(session, now, limit, skip, notes)
    due = select(DEADLINES.c.payment_id).where(DEADLINES.c.expires_at <= now)
    if skip:
        due = due.where(~any_of(dialect, DEADLINES.c.payment_id, skip))
    due = due.limit(limit)
    cancel = update(PAYMENTS).values(status=CANCELED, cancel_reason=EXPIRED, updated_at=now)
    chosen = due.with_for_update(skip_locked=True).cte("chosen")
    ids = func.array(select(chosen.c.payment_id).scalar_subquery())
    canceled = (
        cancel.where(PAYMENTS.c.id == any_(ids), PAYMENTS.c.status == PENDING)
        .returning(*RETURNED)
        .cte("canceled")
    )
    finished = (
        select(PAYMENTS.c.id)
        .where(PAYMENTS.c.id == any_(ids), PAYMENTS.c.status.not_in(OPEN))
        .cte("finished")
    )
    ended = func.array(union_all(select(canceled.c.id), select(finished.c.id)).scalar_subquery())
    gone = (
        delete(DEADLINES)
        .where(DEADLINES.c.payment_id == any_(ended))
        .returning(DEADLINES.c.payment_id)
        .cte("gone")
    )
    statement = (
        select(
            func.count(),
            func.count(canceled.c.id),
            func.array_agg(canceled.c.order_id).filter(canceled.c.order_id.is_not(None)),
            func.array_agg(chosen.c.payment_id).filter(gone.c.payment_id.is_(None)),
        )
        .select_from(
            chosen.outerjoin(canceled, canceled.c.id == chosen.c.payment_id).outerjoin(
                gone, gone.c.payment_id == chosen.c.payment_id
            )
        )
        .add_cte(_audit(canceled, now).cte("audit"))
    )
    if notes is not None:
        statement = statement.add_cte(notes(dialect, canceled, true()).cte("notes"))
    chosen_count, expired_count, orders, kept = (await session.execute(statement)).one()
    return Chunk(chosen_count, expired_count, list(orders or ()), list(kept or ()))


@dataclass(frozen=True, slots=True)
class _SqliteChunk:
    """A SQLite chunk's statements, built once: every value a named parameter (`now`, `skip`,
    `limit`, `ids` as JSON text, `written_at` for the notes). Built for each chunk, they were
    about a sixth of the chunk's time, the customers' notes (their JSON, built in SQL) most."""

    due: Any
    cancel: Any
    audit: Any
    notes: Any
    finished: Any
    delete: Any


def _in_json(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    return in_json(column, bindparam(name, type_=String))


@cache
def _sqlite_chunk(notes: NotesOf | None) -> _SqliteChunk:
    now = bindparam("now", type_=PAYMENTS.c.updated_at.type)
    ids = _in_json(PAYMENTS.c.id, "ids")
    return _SqliteChunk(
        due=select(DEADLINES.c.payment_id)
        .where(DEADLINES.c.expires_at <= now, ~_in_json(DEADLINES.c.payment_id, "skip"))
        .limit(bindparam("limit")),
        cancel=update(PAYMENTS)
        .where(ids, PAYMENTS.c.status == PENDING)
        .values(status=CANCELED, cancel_reason=EXPIRED, updated_at=now)
        .returning(PAYMENTS.c.id, PAYMENTS.c.order_id),
        audit=_audit(PAYMENTS, now, ids),
        notes=None if notes is None else notes("sqlite", PAYMENTS, ids),
        finished=select(PAYMENTS.c.id).where(ids, PAYMENTS.c.status.not_in(OPEN)),
        delete=delete(DEADLINES).where(_in_json(DEADLINES.c.payment_id, "ids")),
    )


async def _cancel_overdue_sqlite(
    session: AsyncSession,
    now: datetime,
    limit: int,
    skip: Sequence[str],
    notes: NotesOf | None,
) -> Chunk:
    """`cancel_overdue` on SQLite: its statements in turn, under SQLite's one write lock."""
    plan = _sqlite_chunk(notes)
    # Core's execution: through the session, an INSERT given parameters is an ORM bulk insert.
    connection = await session.connection()
    chosen = {"now": now, "skip": json.dumps(list(skip)), "limit": limit}
    chosen_ids = list((await connection.execute(plan.due, chosen)).scalars())
    if not chosen_ids:
        return Chunk(0, 0, [], [])
    expired = (
        await connection.execute(plan.cancel, {"ids": json.dumps(chosen_ids), "now": now})
    ).all()
    off_list = [payment_id for payment_id, _ in expired]
    canceled = json.dumps(off_list)
    if off_list:
        await connection.execute(plan.audit, {"ids": canceled, "now": now})
        if plan.notes is not None:
            written = {"ids": canceled, "written_at": datetime.now(UTC)}
            await connection.execute(plan.notes, written)
    # The chunk's canceled payments are finished now; of the rest (seldom any), those that had
    # finished before. BEGIN IMMEDIATE holds the write lock: the deadlines chosen are still
    # there to delete.
    others = set(chosen_ids).difference(off_list)
    off_json = canceled
    if others:
        finished = await connection.execute(plan.finished, {"ids": json.dumps(list(others))})
        off_list += finished.scalars()
        off_json = json.dumps(off_list)
    if off_list:
        await connection.execute(plan.delete, {"ids": off_json})
    taken = set(off_list)
    return Chunk(
        len(chosen_ids),
        len(expired),
        [order_id for _, order_id in expired if order_id],
        [payment_id for payment_id in chosen_ids if payment_id not in taken],
    )


def _audit(
    rows: FromClause, now: datetime | ColumnElement[Any], where: ColumnElement[bool] | None = None
) -> Any:
    """The INSERT … SELECT of an expiry's audit event for each of `rows` (matching `where`), at
    `now` (a time, or a parameter)."""
    return events_for(
        rows,
        source="expiry",
        event=EXPIRED,
        status_before=PENDING,
        status_after=CANCELED,
        at=now,
        where=where,
    )


Cursor = tuple[datetime, str]


async def next_round(
    session: AsyncSession,
    where: ColumnElement[bool],
    key: InstrumentedAttribute[datetime],
    after: Cursor | None,
    limit: int,
    *,
    within: Select[Any],
) -> list[tuple[str, Cursor]]:
    """Return up to `limit` payment ids matching `where` in (key, id) order after `after`,
    going round to the first ones when the end is reached; each with its place in the order.

    A round-robin: run after run the cursor moves on, so every matching payment comes up
    within (matching / limit) runs, however many there are. Only the ids `within` selects
    (a short list: the open payments' deadlines, the last cancellations' events) are looked
    at, each through the primary key (`dialect.among`), then sorted.
    """
    where = and_(where, among(_dialect(session), PAYMENTS.c.id, within))

    async def page(condition: ColumnElement[bool], size: int) -> list[tuple[str, Cursor]]:
        result = await session.execute(
            select(Payment.id, key).where(where, condition).order_by(key, Payment.id).limit(size)
        )
        return [(str(pid), (moment, str(pid))) for pid, moment in result.all()]

    if after is None:
        return await page(literal(True), limit)
    moment, last = after
    ahead = await page(or_(key > moment, and_(key == moment, Payment.id > last)), limit)
    if len(ahead) < limit:
        behind = or_(key < moment, and_(key == moment, Payment.id <= last))
        ahead += await page(behind, limit - len(ahead))
    return ahead
