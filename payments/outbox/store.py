"""Write outbox rows in the caller's transaction: the message exists exactly when the change does.

A duplicate `dedupe_key` (two workers enqueueing the same confirmation) is skipped by the
database itself (INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from db.models_outbox import OutboxMessage
from db.repositories.dialect import insert_for_dialect
from db.writes import write

PRIORITY_TRANSACTIONAL = 0
PRIORITY_BROADCAST = 1

CHANNEL_TELEGRAM = "telegram"
CHANNEL_EMAIL = "email"

# The columns a written row fills, in the order an INSERT … SELECT gives them (`_row`'s keys).
COLUMNS = (
    "kind",
    "channel",
    "chat_id",
    "priority",
    "payload",
    "dedupe_key",
    "broadcast_id",
    "status",
    "attempts",
    "not_before",
    "created_at",
)


def _row(
    *,
    kind: str,
    payload: dict[str, Any],
    chat_id: int | None,
    channel: str = CHANNEL_TELEGRAM,
    priority: int = PRIORITY_TRANSACTIONAL,
    dedupe_key: str | None = None,
    broadcast_id: int | None = None,
    not_before: datetime | None = None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "kind": kind,
        "channel": channel,
        "chat_id": chat_id,
        "priority": priority,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "broadcast_id": broadcast_id,
        "status": "pending",
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
    }


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    chat_id: int | None,
    channel: str = CHANNEL_TELEGRAM,
    priority: int = PRIORITY_TRANSACTIONAL,
    dedupe_key: str | None = None,
    broadcast_id: int | None = None,
    not_before: datetime | None = None,
) -> None:
    """Write one message in the caller's transaction; a duplicate `dedupe_key` is skipped."""
    row = _row(
        kind=kind,
        payload=payload,
        chat_id=chat_id,
        channel=channel,
        priority=priority,
        dedupe_key=dedupe_key,
        broadcast_id=broadcast_id,
        not_before=not_before,
    )
    await write(session, _insert_one(session.get_bind().dialect.name), row)


@functools.cache
def _insert_one(dialect: str) -> Any:
    """Return the one-row INSERT … ON CONFLICT DO NOTHING of the table, built once per dialect.

    Every payment confirmation writes one row under the write lock; building the ORM insert
    with its values per call cost several times more CPU than running it. The row's values are
    bound at execution.
    """
    return insert_for_dialect(
        dialect, cast(Table, OutboxMessage.__table__)
    ).on_conflict_do_nothing()
