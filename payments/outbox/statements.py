"""The sending lane's frequent statements on the outbox table, each built once per process.

A busy lane claims rows about once a second, records each delivered message as sent at once,
and marks each broadcast message 'delivering' before its send: tens of statements a second, and
on SQLite they run on the event loop itself (db/sqlite_loop.py). Built anew each time (ORM
attributes, an aliased table, the held chats' NOT IN list) and run through the ORM, a claim
took 34 ms (15 000 rows pending, 30 chats held), four fifths of it Python, not SQLite; built
here once, every value a bound parameter (lists expand) and run through Core, about 15 ms.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, or_, select, update
from sqlalchemy.sql.dml import ReturningUpdate, Update

from db.models_outbox import OutboxMessage

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
C = OUTBOX.c

CLAIMED = ("sending", "delivering")  # a lane holds the row (claimed, or its send under way)
UNSENT = ("pending", *CLAIMED)  # not recorded as having reached its chat yet
IN_FLIGHT_ERROR = (
    "in flight when its sender died (it may have reached Telegram): "
    "not sent again, so no one gets it twice"
)


def _moment(name: str) -> Any:
    return bindparam(name, type_=C.not_before.type)


def mine(*, given_up_in_flight: bool = False) -> ColumnElement[bool]:
    """The lane's (`me`) claimed rows among `ids`; with `given_up_in_flight`, also those another
    instance gave up while this one, stalled past its lease with the row marked, was still to
    send it (a delivery that did happen is recorded as sent after all)."""
    status: ColumnElement[bool] = C.status.in_(CLAIMED)
    if given_up_in_flight:
        status = or_(status, and_(C.status == "failed", C.last_error == IN_FLIGHT_ERROR))
    return and_(C.id.in_(bindparam("ids", expanding=True)), C.claimed_by == bindparam("me"), status)


# Is a row of the lane's `kinds` due at `now`? A read that takes no lock, before a claim.
ANY_DUE = (
    select(C.id)
    .where(C.status == "pending", C.not_before <= _moment("now"))
    .where(C.kind.in_(bindparam("kinds", expanding=True)))
    .limit(1)
)

# Record `ids` delivered by the lane `me` at `at`.
MARK_SENT: Update = (
    update(OUTBOX)
    .where(mine(given_up_in_flight=True))
    .values(status="sent", sent_at=_moment("at"), claimed_until=None)
)

# Give the lane's `ids` back unsent, due at `due`; the claim does not count as an attempt.
RELEASE: Update = (
    update(OUTBOX)
    .where(mine())
    .values(
        status="pending",
        claimed_by=None,
        claimed_until=None,
        attempts=C.attempts - 1,
        not_before=_moment("due"),
    )
)

# Record that the send of row `row`, claimed by `me`, starts now.
MARK_DELIVERING: Update = (
    update(OUTBOX)
    .where(C.id == bindparam("row"), C.claimed_by == bindparam("me"), C.status == "sending")
    .values(status="delivering")
)


@cache
def claim(dialect: str) -> ReturningUpdate[Any]:
    """Claim up to `limit` rows of `kinds` due at `now` for `me` until `until`, none of a chat in
    `held`; return what the lane needs of each.

    One chat's messages go in the order they were written: a row waits while an earlier row of
    its chat, as urgent or more, is unsent (a 429 or a put-back delays it; a row written later
    must not overtake it). A confirmation still overtakes a broadcast. A chat already in hand
    waits its turn anyway: its next rows are left to others.
    """
    earlier = OUTBOX.alias("earlier")
    queued_behind = (
        select(earlier.c.id)
        .where(
            earlier.c.chat_id == C.chat_id,
            earlier.c.status.in_(UNSENT),
            earlier.c.id < C.id,
            earlier.c.priority <= C.priority,
        )
        .exists()
    )
    due = (
        select(C.id)
        .where(
            C.status == "pending",
            C.not_before <= _moment("now"),
            C.kind.in_(bindparam("kinds", expanding=True)),
            ~queued_behind,
            or_(C.chat_id.is_(None), C.chat_id.not_in(bindparam("held", expanding=True))),
        )
        .order_by(C.priority, C.not_before, C.id)
        .limit(bindparam("limit"))
    )
    chosen: ColumnElement[bool]
    if dialect == "postgresql":
        # A CTE runs once: as an IN (sub-select) PostgreSQL may run the locking sub-select
        # again per row and claim far more than `limit` rows.
        picked = due.with_for_update(skip_locked=True).cte("due")
        chosen = C.id == picked.c.id
    else:
        chosen = C.id.in_(due.scalar_subquery())
    return (
        update(OUTBOX)
        .where(chosen, C.status == "pending")
        .values(
            status="sending",
            claimed_by=bindparam("me"),
            claimed_until=_moment("until"),
            attempts=C.attempts + 1,
        )
        .returning(
            C.id, C.kind, C.chat_id, C.payload, C.attempts, C.broadcast_id, C.priority, C.channel
        )
    )


__all__ = [
    "ANY_DUE",
    "CLAIMED",
    "IN_FLIGHT_ERROR",
    "MARK_DELIVERING",
    "MARK_SENT",
    "RELEASE",
    "UNSENT",
    "claim",
    "mine",
]
