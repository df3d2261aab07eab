"""A sending lane for tests of payments/: the outbox delivered to a recording notifier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models_outbox import OutboxMessage
from db.reader import Reader
from db.repositories.dialect import insert_for
from payments.admin.broadcast import Broadcaster
from payments.catalog import Catalog
from payments.outbox.lane import SendingLane
from payments.outbox.notes import EMAIL_TICKETS, mail_deliverer, note_deliverers
from payments.outbox.store import _row as row_values
from payments.ports import Clock, Mailer

SETTLE_SECONDS = 10.0
# Rows per INSERT of enqueue_many: well under SQLite's 32 766 bound parameters (16 columns).
ROWS_A_STATEMENT = 500


def broadcaster(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> Broadcaster:
    """A Broadcaster as the admin console builds it, reading its progress off the loop."""
    return Broadcaster(
        sessionmaker=sessionmaker, reader=Reader(sessionmaker.kw["bind"]), clock=clock
    )


@asynccontextmanager
async def recording_lane(
    sessionmaker: async_sessionmaker[AsyncSession],
    notifier: Any,
    *,
    mailer: Mailer | None = None,
    catalog: Catalog | None = None,
) -> AsyncIterator[SendingLane]:
    """Run a lane that says every note through `notifier` (and e-mails through `mailer`).

    No per-chat pacing and a high rate: these tests look at what is said, not when.
    """
    lane = SendingLane(sessionmaker, rate=1000.0, per_chat_seconds=0.0, poll_seconds=0.05)
    for kind, deliver in note_deliverers(notifier).items():
        lane.register(kind, deliver)
    if mailer is not None and catalog is not None:
        lane.register(EMAIL_TICKETS, mail_deliverer(mailer, catalog))
    lane.start()
    try:
        yield lane
    finally:
        await lane.stop()


async def settle(lane: SendingLane) -> None:
    """Wait until every due outbox row is delivered (what a customer would have been told)."""
    async with asyncio.timeout(SETTLE_SECONDS):
        await lane.drain()


async def enqueue_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Write many messages (a test's broadcast) in chunks; return how many were inserted.

    The service writes a broadcast with payments/admin/audience.py's INSERT … SELECT.

    Each row takes enqueue's keyword arguments (`kind`, `payload`, `chat_id` required).
    Rows whose `dedupe_key` exists already are skipped and not counted.
    """
    inserted = 0
    # One statement compiled once (cached); SQLAlchemy sends each chunk as multi-row INSERTs
    # ("insertmanyvalues"), and RETURNING counts what was inserted on every database.
    statement = (
        insert_for(session, OutboxMessage).on_conflict_do_nothing().returning(OutboxMessage.id)
    )
    for start in range(0, len(rows), ROWS_A_STATEMENT):
        chunk = [row_values(**row) for row in rows[start : start + ROWS_A_STATEMENT]]
        result = await session.execute(statement, chunk)
        inserted += len(result.all())
    return inserted
