"""The database side of the sending lane: claiming due rows under a lease, putting rows back,
recording what was delivered, and what a row's outcome writes.

`SendingLane` (payments/outbox/lane.py) holds the rows in memory and dispatches them within the
budget; the statements it runs on the `outbox` table are here, the frequent ones built once
(payments/outbox/statements.py).

A broadcast row is marked 'delivering' just before it takes its send token (one UPDATE by
primary key; never between the token and the send, where the write's latency bunched sends).
When a lease runs out, rows only claimed go back to pending; a row being delivered may have
reached Telegram before its instance died: a transactional one is sent again (a doubled
confirmation beats a lost ticket), a broadcast one is given up, so no recipient gets it twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable

from db.models_outbox import OutboxMessage
from db.reader import Reader
from db.repositories.users import mark_blocked
from payments.outbox.budget import Grant
from payments.outbox.outcomes import Blocked, Deliver, Envelope, GiveUp, Outcome, RetryLater, Sent
from payments.outbox.statements import (
    ANY_DUE,
    CLAIMED,
    IN_FLIGHT_ERROR,
    MARK_DELIVERING,
    MARK_SENT,
    OUTBOX,
    RELEASE,
    C,
    claim,
    mine,
)
from payments.outbox.store import CHANNEL_TELEGRAM, PRIORITY_BROADCAST

log = logging.getLogger(__name__)

# Sent rows are recorded at once; a failed record is tried again after this many rows or seconds.
FLUSH_ROWS = 16
FLUSH_SECONDS = 0.25

STOPPED = "stopped while delivering"  # put back by stop(): not counted as an attempt


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Held:
    """A claimed row waiting in memory for its chat's turn or a free slot."""

    envelope: Envelope
    priority: int
    channel: str
    lease_until: float  # monotonic
    # A broadcast row marked 'delivering' (its send is about to start): see _mark_delivering.
    marked: bool = False
    # The token taken for its first send, marked sent when that send goes (budget.Grant).
    grants: list[Grant] = field(default_factory=list)


@dataclass
class _State:
    held: list[_Held] = field(default_factory=list)
    # Rows a background claim brought, added to `held` at the start of the next pass.
    incoming: list[_Held] = field(default_factory=list)
    in_flight: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    busy_chats: set[int] = field(default_factory=set)
    # When a chat may get its next message (monotonic): last send + 1 s, or a 429's end.
    chat_ready: dict[int, float] = field(default_factory=dict)
    done_sent: list[int] = field(default_factory=list)


class LaneRows:
    """The lane's statements on the `outbox` table; the attributes are set by SendingLane."""

    _sessionmaker: async_sessionmaker[AsyncSession]
    # PostgreSQL: the engine in AUTOCOMMIT, for the lane's one-statement writes (see `_one`).
    _autocommit: AsyncEngine | None
    _dialect: str
    _reader: Reader | None
    _deliverers: dict[str, Deliver]
    _lease: float
    _max_failures: int
    _per_chat: float
    _state: _State
    _last_flush: float
    _last_reclaim: float
    _on_outcome: list[Callable[[Envelope, Outcome], None]]
    instance_id: str

    async def _unsent(self) -> int:
        """Count rows of this lane's kinds that are due, or claimed by it and not settled."""
        now = _utcnow()
        async with self._sessionmaker() as session:
            found = await session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.kind.in_(sorted(self._deliverers)),
                    or_(
                        and_(OutboxMessage.status == "pending", OutboxMessage.not_before <= now),
                        and_(
                            OutboxMessage.status.in_(CLAIMED),
                            OutboxMessage.claimed_by == self.instance_id,
                        ),
                    ),
                )
            )
            return int(found.scalar_one())

    async def _one(
        self, statement: Executable, params: Mapping[str, Any]
    ) -> tuple[int, Sequence[Any]]:
        """Run one write as a transaction of its own; return its rowcount and returned rows.

        On PostgreSQL the statement commits by itself (AUTOCOMMIT) on a Core connection: one
        round trip, where BEGIN, the statement and COMMIT through an ORM session were three and
        half as much CPU again (0.78 against 0.51 ms). A claim, a sent record and a broadcast
        row's mark are each one statement, atomic on its own; in a sale rush the lane ran them
        for every confirmation and QR album, beside the customers' updates on the same loop.
        SQLite keeps the session's transaction (its one writer's lock, taken without blocking).
        """
        if self._autocommit is not None:
            async with self._autocommit.connect() as connection:
                done = cast("CursorResult[Any]", await connection.execute(statement, params))
                return done.rowcount, done.all() if done.returns_rows else []
        async with self._sessionmaker.begin() as session:
            done = cast("CursorResult[Any]", await session.execute(statement, params))
            return done.rowcount, done.all() if done.returns_rows else []

    async def _mark_delivering(self, row_id: int) -> bool:
        """Record that a row's send starts now; False: the row is no longer this lane's."""
        changed, _ = await self._one(MARK_DELIVERING, {"row": row_id, "me": self.instance_id})
        return changed > 0

    async def _claim(self, limit: int) -> tuple[int, bool]:
        """Claim up to `limit` due rows of the kinds this lane delivers; hold them in memory.

        Returns how many rows came into the hand and whether the claim took all `limit` (so
        more may be due).
        """
        if not self._deliverers or limit <= 0:
            return 0, False
        now = _utcnow()
        # SQLite: a claim takes the one write lock, so an idle lane reads first. PostgreSQL:
        # the claim is one statement that skips locked rows, no dearer than that read.
        if self._reader is not None and self._autocommit is None and not await self._any_due(now):
            return 0, False
        in_hand = [*self._state.held, *self._state.incoming]
        held_chats = {h.envelope.chat_id for h in in_hand if h.envelope.chat_id}
        held_chats |= self._state.busy_chats
        params = {
            "now": now,
            "kinds": sorted(self._deliverers),
            "held": sorted(held_chats),
            "limit": limit,
            "me": self.instance_id,
            "until": now + timedelta(seconds=self._lease),
        }
        _, rows = await self._one(claim(self._dialect), params)
        lease_until = time.monotonic() + self._lease
        seen: set[int] = set()
        extra: list[int] = []
        for row in rows:
            chat = row.chat_id
            if chat is not None and row.channel == CHANNEL_TELEGRAM:
                if chat in seen:
                    extra.append(row.id)  # one row per chat in hand; the next goes back
                    continue
                seen.add(chat)
            envelope = Envelope(
                id=row.id,
                kind=row.kind,
                chat_id=chat,
                payload=dict(row.payload or {}),
                attempts=row.attempts,
                broadcast_id=row.broadcast_id,
            )
            self._state.incoming.append(_Held(envelope, row.priority, row.channel, lease_until))
        if extra:
            await self._release(extra, delay=self._per_chat)
        return len(rows) - len(extra), len(rows) >= limit

    async def _any_due(self, now: datetime) -> bool:
        """Say whether a row is due, with a read that takes no lock."""
        assert self._reader is not None  # noqa: S101 - called only with a reader
        found = await self._reader.rows(ANY_DUE, {"now": now, "kinds": sorted(self._deliverers)})
        return bool(found)

    async def _reclaim_expired(self) -> None:
        """Take back rows whose lease ran out (their instance died).

        Rows only claimed, and transactional rows being delivered, go back to pending: someone
        sends them. Broadcast rows being delivered are given up: they may have gone out.
        """
        now_mono = time.monotonic()
        if now_mono - self._last_reclaim < min(self._lease / 4, 30.0):
            return
        self._last_reclaim = now_mono
        now = _utcnow()
        expired = and_(OutboxMessage.status.in_(CLAIMED), OutboxMessage.claimed_until < now)
        async with self._sessionmaker.begin() as session:
            given_up = await session.execute(
                update(OutboxMessage)
                .where(
                    expired,
                    OutboxMessage.status == "delivering",
                    OutboxMessage.priority == PRIORITY_BROADCAST,
                )
                .values(status="failed", claimed_until=None, last_error=IN_FLIGHT_ERROR)
                .execution_options(synchronize_session=False)
            )
            taken = await session.execute(
                update(OutboxMessage)
                .where(expired)
                .values(status="pending", claimed_by=None, claimed_until=None, not_before=now)
                .execution_options(synchronize_session=False)
            )
        count = getattr(given_up, "rowcount", 0) or 0
        if count > 0:
            log.warning(
                "outbox: %d broadcast rows in flight when their sender died given up", count
            )
        count = getattr(taken, "rowcount", 0) or 0
        if count > 0:
            log.warning("outbox: %d rows of a dead instance's lease taken back", count)

    async def _release(self, ids: list[int], delay: float = 0.0) -> None:
        """Give claimed rows back unsent (the claim does not count as an attempt)."""
        if not ids:
            return
        due = _utcnow() + timedelta(seconds=delay)
        await self._one(RELEASE, {"ids": ids, "me": self.instance_id, "due": due})

    async def _flush_sent(self, *, force: bool) -> None:
        """Record the rows delivered since the last record in one UPDATE."""
        state = self._state
        if not state.done_sent:
            return
        now = time.monotonic()
        quiet = not state.in_flight and not state.held
        due = len(state.done_sent) >= FLUSH_ROWS or now - self._last_flush >= FLUSH_SECONDS
        if not (force or quiet or due):
            return
        self._last_flush = now
        ids, state.done_sent = state.done_sent, []
        try:
            await self._one(MARK_SENT, {"ids": ids, "me": self.instance_id, "at": _utcnow()})
        except Exception:
            self._state.done_sent.extend(ids)
            raise

    async def _update(self, row_id: int, values: dict[str, Any]) -> None:
        await self._one(
            update(OUTBOX).where(mine()).values(**values), {"ids": [row_id], "me": self.instance_id}
        )

    async def _settle(self, held: _Held, outcome: Outcome) -> None:
        envelope = held.envelope
        if isinstance(outcome, Sent):
            # Recorded at once (with whatever else was delivered meanwhile): a row sent but not
            # yet marked is sent again after a crash, so only deliveries in flight may double.
            self._state.done_sent.append(envelope.id)
            await self._flush_sent(force=True)
            return
        now = _utcnow()
        values: dict[str, Any]
        if isinstance(outcome, RetryLater):
            if envelope.chat_id is not None and outcome.rate_limited:
                ready = time.monotonic() + outcome.seconds
                chat_ready = self._state.chat_ready
                chat_ready[envelope.chat_id] = max(chat_ready.get(envelope.chat_id, 0), ready)
            counts = not outcome.rate_limited and outcome.reason != STOPPED
            if counts and envelope.attempts >= self._max_failures:
                outcome = GiveUp(f"{envelope.attempts} failed attempts; last: {outcome.reason}")
            else:
                values = {
                    "status": "pending",
                    "claimed_by": None,
                    "claimed_until": None,
                    "not_before": now + timedelta(seconds=max(outcome.seconds, 0.0)),
                    "last_error": outcome.reason[:1000],
                }
                if not counts:
                    values["attempts"] = C.attempts - 1
                log.info(
                    "outbox %d (%s) to %s: again in %.1f s: %s",
                    envelope.id,
                    envelope.kind,
                    envelope.chat_id,
                    outcome.seconds,
                    outcome.reason,
                )
                await self._update(envelope.id, values)
                return
        if isinstance(outcome, Blocked):
            log.info("outbox %d: chat %s blocked the bot; marked", envelope.id, envelope.chat_id)
            async with self._sessionmaker.begin() as session:
                await session.execute(
                    update(OUTBOX)
                    .where(mine())
                    .values(status="failed", last_error="blocked", claimed_until=None),
                    {"ids": [envelope.id], "me": self.instance_id},
                )
                if envelope.chat_id is not None:
                    await mark_blocked(session, str(envelope.chat_id))
                    await session.execute(
                        update(OutboxMessage)
                        .where(
                            OutboxMessage.chat_id == envelope.chat_id,
                            OutboxMessage.priority == PRIORITY_BROADCAST,
                            OutboxMessage.status == "pending",
                        )
                        .values(status="canceled", last_error="blocked")
                        .execution_options(synchronize_session=False)
                    )
            return
        assert isinstance(outcome, GiveUp)  # noqa: S101 - the Outcome union is closed
        log.warning(
            "outbox %d (%s) to %s given up after %d attempts: %s",
            envelope.id,
            envelope.kind,
            envelope.chat_id,
            envelope.attempts,
            outcome.reason,
        )
        await self._update(
            envelope.id,
            {"status": "failed", "claimed_until": None, "last_error": outcome.reason[:1000]},
        )
