"""The SQL of the sweeps: the expiry sweep in chunks, the reconcilers' round-robin.

Every list of ids goes to the database as one parameter (`dialect.any_of`): `= ANY(:ids)` on
PostgreSQL, `IN (SELECT value FROM json_each(:ids))` on SQLite, so a chunk of 2 000 is one
short statement compiled once. Statuses are plain strings here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, and_, func, literal, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from db.models import Payment
from db.repositories.dialect import any_of
from db.repositories.payments import events_for

PENDING = "pending"
CANCELED = "canceled"
EXPIRED = "expired"
PAYMENTS = cast(Table, Payment.__table__)  # Core: no ORM bookkeeping per returned row
RETURNED = (
    PAYMENTS.c.id,
    PAYMENTS.c.provider_id,
    PAYMENTS.c.order_id,
    PAYMENTS.c.user_id,
    PAYMENTS.c.kind,
    PAYMENTS.c.chat_message_id,
)

# What `cancel_overdue` returns: the payment's id and its order's (the seats to give back).
ExpiredRow = Row[tuple[str, str | None]]


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

    One aggregate over `ix_payments_status_expires`: no row comes into Python.
    """
    result = await session.execute(
        select(func.count(), func.min(Payment.created_at)).where(_overdue(now))
    )
    count, oldest = result.one()
    return int(count), _as_utc(oldest)


async def overdue_among(
    session: AsyncSession, now: datetime, provider_ids: Sequence[str]
) -> list[str]:
    """Return the provider ids, of those given, whose payment is pending and overdue."""
    if not provider_ids:
        return []
    result = await session.execute(
        select(Payment.provider_id).where(
            _overdue(now), any_of(_dialect(session), Payment.provider_id, provider_ids)
        )
    )
    return [str(provider_id) for provider_id in result.scalars()]


# Builds the INSERT … SELECT of the notes telling customers about expired payments, from rows
# with the columns of `RETURNED` matching a condition (payments/jobs.py `expiry_notes`).
NotesOf = Callable[[str, FromClause, ColumnElement[bool]], Any]


async def cancel_overdue(
    session: AsyncSession,
    now: datetime,
    limit: int,
    *,
    spare: Sequence[str] = (),
    notes: NotesOf | None = None,
) -> list[ExpiredRow]:
    """Cancel up to `limit` overdue pending payments, write an audit event for each (and,
    with `notes`, the customers' messages); return what was canceled.

    Nothing is loaded before the chunk is chosen, and the chunk is chosen without ORDER BY:
    any overdue rows will do, and a sort would cost a pass over every overdue row per chunk
    when the planner misjudges their number (fresh rows, no ANALYZE yet).
    - SQLite: one UPDATE whose sub-select picks the chunk, under SQLite's one writer lock,
      so the sub-select's `status = 'pending'` still holds (a second `status = ?` outside
      made SQLite walk every pending row per chunk through the status index: quadratic);
      then the audit rows and the notes, each one INSERT … SELECT by the chunk's ids.
    - PostgreSQL: one statement. The chunk's ids are locked first (`FOR UPDATE SKIP LOCKED`:
      rows another worker holds are left to it; a locked row is checked again for
      `status = 'pending'`), the UPDATE joins them through the primary key, and the audit
      rows and the notes are inserted from its RETURNING. With the ids sent back and forth
      (`= ANY(:ids)`), each of the three statements scanned the whole table for them.
    `spare`: provider ids YooKassa has authorised or charged; those are left to fulfilment.
    """
    dialect = _dialect(session)
    chosen = select(Payment.id).where(_overdue(now))
    if spare:
        chosen = chosen.where(
            or_(Payment.provider_id.is_(None), ~any_of(dialect, Payment.provider_id, spare))
        )
    chosen = chosen.limit(limit)
    cancel = update(PAYMENTS).values(status=CANCELED, cancel_reason=EXPIRED, updated_at=now)
    if dialect == "postgresql":
        locked = chosen.with_for_update(skip_locked=True).cte("chosen")
        canceled = cancel.where(PAYMENTS.c.id == locked.c.id).returning(*RETURNED).cte("canceled")
        statement = select(canceled.c.id, canceled.c.order_id).add_cte(
            _audit(canceled, now).cte("audit")
        )
        if notes is not None:
            statement = statement.add_cte(notes(dialect, canceled, true()).cte("notes"))
        return cast(list[ExpiredRow], list((await session.execute(statement)).all()))
    result = await session.execute(
        cancel.where(PAYMENTS.c.id.in_(chosen.scalar_subquery())).returning(
            PAYMENTS.c.id, PAYMENTS.c.order_id
        )
    )
    expired: list[ExpiredRow] = list(result.all())
    if expired:
        ids = any_of(dialect, PAYMENTS.c.id, [row.id for row in expired])
        await session.execute(_audit(PAYMENTS, now, ids))
        if notes is not None:
            await session.execute(notes(dialect, PAYMENTS, ids))
    return expired


def _audit(rows: FromClause, now: datetime, where: ColumnElement[bool] | None = None) -> Any:
    """The INSERT … SELECT of an expiry's audit event for each of `rows` (matching `where`)."""
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
) -> list[tuple[str, Cursor]]:
    """Return up to `limit` payment ids matching `where` in (key, id) order after `after`,
    going round to the first ones when the end is reached; each with its place in the order.

    A round-robin: run after run the cursor moves on, so every matching payment comes up
    within (matching / limit) runs, however many there are.
    """

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
