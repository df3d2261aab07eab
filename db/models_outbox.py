"""The outbox: every message to a customer, written in the transaction of the change behind it.

One sending lane per instance claims rows with conditional UPDATEs (a lease in `claimed_until`,
so a row claimed by an instance that died is taken over) and delivers them within Telegram's
budget; see payments/outbox/.

A row's status: pending → sending (claimed) → sent, failed or back to pending (retried), or
canceled (a broadcast stopped, a recipient blocked). A broadcast row moves from sending to
delivering just before its send starts: if its instance dies then, Telegram may have it already,
so it is given up (failed) rather than sent twice; a row only claimed is sent by the next one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow

OUTBOX_STATUSES = ("pending", "sending", "delivering", "sent", "failed", "canceled")
OUTBOX_CHANNELS = ("telegram", "email")


class OutboxMessage(Base):
    """One message to deliver: what (`kind` + `payload`), to whom, how urgent, and how it went."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'delivering', 'sent', 'failed', 'canceled')",
            name="status_known",
        ),
        CheckConstraint("channel IN ('telegram', 'email')", name="channel_known"),
        # The lane's claim: the next due rows, transactional (priority 0) before broadcasts.
        Index("ix_outbox_due", "status", "priority", "not_before", "id"),
        # One broadcast's rows (its progress, its stop). Migration 0011 makes it partial, WHERE
        # broadcast_id IS NOT NULL: the other rows are not in it. Not said here: a dialect's
        # keyword (`postgresql_where`) imports that dialect with the models, used or not.
        Index("ix_outbox_broadcast", "broadcast_id", "status"),
        # The claim's per-chat order: an earlier unsent row of the same chat holds a row back.
        Index("ix_outbox_chat", "chat_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    # The Telegram chat (paced at one message a second per chat); None for e-mail.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    # 0: transactional (confirmations, tickets, notices); 1: broadcasts. Lower goes first.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Enqueueing the same thing twice (two webhooks racing) keeps one row.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    broadcast_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxSender(Base):
    """A sending lane that is running: each lane says so every second (`seen_at`), and the
    lanes seen lately share Telegram's ~30 messages a second between them (payments/outbox/
    senders.py)."""

    __tablename__ = "outbox_senders"

    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
