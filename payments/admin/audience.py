"""A broadcast's audience in SQL: counted, and written to the outbox, with no user in Python.

The audience is every user with a Telegram chat (an id of ASCII digits) who has not blocked the
bot, but the admin who sends it. Confirming a broadcast to 20 000 users used to read their ids
into Python and send 20 000 rows back as parameters: one to three seconds of the event loop on
SQLite, where statements run in place (db/sqlite_loop.py). Now each chunk of users is one
INSERT … SELECT that the database runs by itself, and the loop has a turn between chunks.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    SmallInteger,
    String,
    Table,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import UTCDateTime
from db.models import User
from db.models_outbox import OutboxMessage
from db.repositories.dialect import insert_for_dialect
from payments.outbox.notes import has_chat
from payments.outbox.store import CHANNEL_TELEGRAM, COLUMNS, PRIORITY_BROADCAST

KIND_BROADCAST = "broadcast"
# Users a chunk takes: a few milliseconds of the database's time, on the loop on SQLite.
AUDIENCE_CHUNK = 2000

USERS = cast(Table, User.__table__)


def _audience(dialect: str, exclude: int | None) -> ColumnElement[bool]:
    condition = USERS.c.is_blocked.is_(False) & has_chat(dialect, USERS.c.id)
    if exclude is not None:
        condition = condition & (USERS.c.id != str(exclude))
    return condition


async def audience_size(session: AsyncSession, exclude: int | None) -> int:
    """Return how many chats a broadcast from `exclude` would go to (one COUNT)."""
    dialect = session.get_bind().dialect.name
    count = select(func.count()).select_from(USERS).where(_audience(dialect, exclude))
    return int((await session.execute(count)).scalar_one())


async def enqueue_broadcast(
    session: AsyncSession, draft_id: int, text: str, exclude: int | None
) -> int:
    """Write a broadcast's outbox rows for its whole audience in the caller's transaction, a
    chunk of users at a time in the order of their ids; return how many rows were written.

    Each chunk is bounded first (the id of its last user, read through the primary key) and
    then written by one INSERT … SELECT; rows whose dedupe key exists are skipped.
    """
    dialect = session.get_bind().dialect.name
    audience = _audience(dialect, exclude)
    after = bindparam("after", type_=String)
    last = bindparam("last", type_=String)
    window = (
        select(USERS.c.id)
        .where(audience, USERS.c.id > after)
        .order_by(USERS.c.id)
        .limit(AUDIENCE_CHUNK)
        .subquery()
    )
    bound = select(func.max(window.c.id))
    now = datetime.now(UTC)
    rows = select(
        literal(KIND_BROADCAST, String),
        literal(CHANNEL_TELEGRAM, String),
        sql_cast(USERS.c.id, BigInteger),
        literal(PRIORITY_BROADCAST, SmallInteger),
        bindparam("payload", {"text": text}, type_=OutboxMessage.__table__.c.payload.type),
        literal(f"bc:{draft_id}:", String) + USERS.c.id,
        literal(draft_id, Integer),
        literal("pending", String),
        literal(0, Integer),
        literal(now, UTCDateTime),
        literal(now, UTCDateTime),
    ).where(audience, USERS.c.id > after, USERS.c.id <= last)
    table = cast(Table, OutboxMessage.__table__)
    insert: Any = (
        insert_for_dialect(dialect, table)
        .from_select(COLUMNS, rows)
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )
    connection = await session.connection()  # Core: no ORM bulk insert of the parameters
    written, start = 0, ""
    while True:
        end = (await connection.execute(bound, {"after": start})).scalar_one_or_none()
        if end is None:
            return written
        result = await connection.execute(insert, {"after": start, "last": end})
        written += len(result.all())
        start = str(end)
        await asyncio.sleep(0)  # SQLite ran the chunk on the loop: let updates in between
