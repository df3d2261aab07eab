"""Broadcasts for /broadcast: a draft to confirm, sent once through the outbox, stoppable anywhere.

A broadcast's audit row carries its state in `result`, moved by conditional UPDATEs:
awaiting confirmation → sending → (stop requested →) the outcome, or → canceled. Two presses,
two admins or two instances can confirm it only once.

Confirming writes one outbox row per recipient (kind "broadcast", priority 1) in the same
transaction that moves the row to sending; the sending lane delivers them within Telegram's
budget, behind every transactional message. The counts per status of those rows ARE the
progress, so any instance can show it, Stop is one UPDATE of the pending rows, and after a
restart the lane simply goes on with the rows still pending: nothing is sent twice or lost,
except that a message whose send was under way at a crash is given up (counted as failed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditLog
from db.models_outbox import OutboxMessage
from db.reader import Reader
from db.repositories import audit as audit_repo
from payments.admin import audit
from payments.admin.audience import audience_size, enqueue_broadcast
from payments.ports import Clock

log = logging.getLogger(__name__)

BROADCAST_DRAFT = "awaiting confirmation"
BROADCAST_SENDING = "sending"
BROADCAST_STOPPING = "stop requested"
BROADCAST_CANCELED = "canceled"
RUNNING = (BROADCAST_SENDING, BROADCAST_STOPPING)

# What the lane writes in last_error when the recipient blocked the bot.
BLOCKED_ERROR = "blocked"
STOPPED_ERROR = "stopped by an admin"
WATCH_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class BroadcastDraft:
    """A broadcast waiting for confirmation: its audit row id and how many would get it."""

    id: int
    recipients: int
    text: str


@dataclass(frozen=True, slots=True)
class ProgressSpot:
    """Where a broadcast's progress is shown: the admin's message, in the admin's language."""

    chat_id: int
    message_id: int
    lang: str

    def to_args(self) -> dict[str, Any]:
        """Return the form kept in the audit row's args."""
        return {"chat": self.chat_id, "message": self.message_id, "lang": self.lang}

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> ProgressSpot | None:
        """Read the spot back from the audit row's args (None when none was kept)."""
        spot = args.get("progress")
        if not isinstance(spot, dict):
            return None
        return cls(int(spot["chat"]), int(spot["message"]), str(spot.get("lang", "ru")))


@dataclass(frozen=True, slots=True)
class Running:
    """A broadcast still sending (or stopping) and where its progress is shown."""

    id: int
    spot: ProgressSpot | None


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """Counters of a running or finished broadcast, from its outbox rows."""

    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    waits: int = 0  # deliveries tried again (a 429 or a network error)
    pending: int = 0  # not yet delivered (pending, claimed, or being sent)
    finished: bool = False
    stopped: bool = False

    @property
    def done(self) -> int:
        """Return how many recipients were handled."""
        return self.sent + self.blocked + self.failed


class ProgressSink(Protocol):
    """Shows a broadcast's progress (the bot edits a message); never raises."""

    async def show(self, progress: BroadcastProgress) -> None:
        """Show the counters."""
        ...


def outcome_text(final: BroadcastProgress) -> str:
    """Return the outcome recorded in the audit row."""
    return (
        f"sent {final.sent} of {final.total}; blocked {final.blocked}; "
        f"failed {final.failed}; retries {final.waits}"
        + (f"; stopped at {final.done}/{final.total}" if final.stopped else "")
    )


class Broadcaster:
    """Draft, confirm, cancel, stop and watch broadcasts to every user who did not block us."""

    def __init__(
        self, *, sessionmaker: async_sessionmaker[AsyncSession], reader: Reader, clock: Clock
    ) -> None:
        """Keep the collaborators."""
        self._sessionmaker = sessionmaker
        self._reader = reader
        self._clock = clock

    async def audience_size(self, exclude: int | None = None) -> int:
        """Return how many chats a broadcast goes to: users with a Telegram id who did not
        block us, but `exclude`."""
        async with self._sessionmaker() as session:
            return await audience_size(session, exclude)

    async def draft_broadcast(self, admin_id: int, text: str) -> BroadcastDraft:
        """Record a broadcast awaiting confirmation; the sender is not among its recipients."""
        recipients = await self.audience_size(exclude=admin_id)
        draft_id = await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            "broadcast",
            None,
            {"text": text, "recipients": recipients},
            BROADCAST_DRAFT,
        )
        return BroadcastDraft(draft_id, recipients, text)

    async def _move(
        self,
        session: AsyncSession,
        admin_id: int,
        draft_id: int,
        action: str,
        from_results: Sequence[str],
        to: str,
    ) -> bool:
        moved = await audit_repo.move_result(
            session, draft_id, action="broadcast", from_results=from_results, to=to
        )
        await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            action,
            f"broadcast:{draft_id}",
            {"broadcast": draft_id},
            "done" if moved else "refused: not in a state for it",
            session,
        )
        return moved

    async def confirm_broadcast(
        self, admin_id: int, draft_id: int, spot: ProgressSpot | None = None
    ) -> BroadcastDraft | None:
        """Confirm a draft once (two presses, two admins, two instances: one send).

        In one transaction: the row moves to sending and every recipient gets an outbox row,
        written by the database a chunk of users at a time (payments/admin/audience.py).
        `spot` is kept so that a watcher started after a restart edits the same progress
        message.
        """
        async with self._sessionmaker.begin() as session:
            if not await self._move(
                session, admin_id, draft_id, "broadcast_send", (BROADCAST_DRAFT,), BROADCAST_SENDING
            ):
                return None
            entry = await audit_repo.get_entry(session, draft_id)
            assert entry is not None  # noqa: S101 - it just moved
            text = str(entry.args["text"])
            inserted = await enqueue_broadcast(session, draft_id, text, entry.admin_id)
            args = {**entry.args, "recipients": inserted}
            if spot is not None:
                args["progress"] = spot.to_args()
            entry.args = args
        log.info("broadcast %s: %d messages queued", draft_id, inserted)
        return BroadcastDraft(draft_id, inserted, text)

    async def place_progress(self, draft_id: int, spot: ProgressSpot) -> None:
        """Remember where the progress of a confirmed broadcast is shown."""
        async with self._sessionmaker.begin() as session:
            entry = await audit_repo.get_entry(session, draft_id)
            if entry is not None:
                entry.args = {**entry.args, "progress": spot.to_args()}

    async def cancel_broadcast(self, admin_id: int, draft_id: int) -> bool:
        """Drop a draft that was not sent."""
        async with self._sessionmaker.begin() as session:
            return await self._move(
                session,
                admin_id,
                draft_id,
                "broadcast_cancel",
                (BROADCAST_DRAFT,),
                BROADCAST_CANCELED,
            )

    async def request_stop(self, admin_id: int, draft_id: int) -> bool:
        """Stop a running broadcast from any instance: its undelivered rows are canceled.

        A message being delivered right now finishes; every other one stays unsent: pending
        rows (and rows held by an instance that died, lease over) are canceled here, and rows a
        lane holds claimed are given up by the deliverer, which asks `still_sending` first. A
        row whose send started ('delivering') is left to the lanes: it may have gone out.
        """
        async with self._sessionmaker.begin() as session:
            if not await self._move(
                session,
                admin_id,
                draft_id,
                "broadcast_stop",
                (BROADCAST_SENDING,),
                BROADCAST_STOPPING,
            ):
                return False
            now = self._clock.now()
            canceled = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.broadcast_id == draft_id,
                    or_(
                        OutboxMessage.status == "pending",
                        and_(
                            OutboxMessage.status == "sending",
                            OutboxMessage.claimed_until < now,
                        ),
                    ),
                )
                .values(status="canceled", last_error=STOPPED_ERROR)
                .execution_options(synchronize_session=False)
            )
        log.info("broadcast %s: stopped, %d messages canceled", draft_id, canceled.rowcount)  # type: ignore[attr-defined]
        return True

    async def progress(self, draft_id: int) -> BroadcastProgress:
        """Count the broadcast's outbox rows per status (one aggregate over its index)."""
        return (await self._read(draft_id))[0]

    async def _read(self, draft_id: int) -> tuple[BroadcastProgress, str | None]:
        # last_error tells a blocked recipient and a row stopped by an admin from the rest; on
        # a delivered row it says why it had to be tried again (a 429, a network error).
        why = case(
            (OutboxMessage.last_error == BLOCKED_ERROR, BLOCKED_ERROR),
            (OutboxMessage.last_error == STOPPED_ERROR, STOPPED_ERROR),
            (OutboxMessage.last_error.is_not(None), "retried"),
            else_="",
        ).label("why")
        query = (
            select(OutboxMessage.status, why, func.count())
            .where(OutboxMessage.broadcast_id == draft_id)
            .group_by(OutboxMessage.status, why)
        )
        # Every one of the broadcast's rows is read (last_error is not in its index): 25-30 ms
        # on SQLite at 20 000 every two seconds, so a report, off the loop (db/reader.py).
        rows, states = await self._reader.report(
            lambda: (query, select(AuditLog.result).where(AuditLog.id == draft_id))
        )
        result = states[0][0] if states else None
        counts: dict[str, int] = {}
        total = retried = 0
        for status, reason, count in rows:
            total += int(count)
            key = str(status)
            if reason in (BLOCKED_ERROR, STOPPED_ERROR):
                key = str(reason)  # failed or canceled: blocked, or stopped (never sent)
            elif status == "sent" and reason == "retried":
                retried += int(count)
            counts[key] = counts.get(key, 0) + int(count)
        progress = BroadcastProgress(
            total=total,
            sent=counts.get("sent", 0),
            blocked=counts.get(BLOCKED_ERROR, 0),
            failed=counts.get("failed", 0),
            waits=retried,
            pending=sum(counts.get(status, 0) for status in ("pending", "sending", "delivering")),
            stopped=result == BROADCAST_STOPPING,
        )
        return progress, result

    async def still_sending(self, draft_id: int) -> bool:
        """Say whether a broadcast's messages may still go out (not stopped): one look-up."""
        async with self._sessionmaker() as session:
            return await _state(session, draft_id) == BROADCAST_SENDING

    async def finish(self, draft_id: int, final: BroadcastProgress) -> bool:
        """Record the outcome once (whichever watcher gets here first); return whether we did."""
        async with self._sessionmaker.begin() as session:
            moved = await audit_repo.move_result(
                session,
                draft_id,
                action="broadcast",
                from_results=RUNNING,
                to=outcome_text(final),
            )
        if moved:
            log.info("broadcast %s: %s", draft_id, outcome_text(final))
        return moved

    async def running(self) -> list[Running]:
        """Return the broadcasts still sending or stopping (their watchers restart at start-up)."""
        async with self._sessionmaker() as session:
            entries = (
                await session.execute(
                    select(AuditLog)
                    .where(AuditLog.action == "broadcast", AuditLog.result.in_(RUNNING))
                    .order_by(AuditLog.id)
                )
            ).scalars()
            return [Running(e.id, ProgressSpot.from_args(e.args or {})) for e in entries]

    async def watch(
        self,
        draft_id: int,
        sink: ProgressSink,
        *,
        every: float = WATCH_SECONDS,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> BroadcastProgress | None:
        """Show the progress every `every` seconds until no message is left to deliver.

        Then record the outcome and show it (only the watcher that records it shows it, when
        several instances watch the same broadcast). Return the final counters, or None when
        another watcher finished it first.
        """
        shown: BroadcastProgress | None = None
        while True:
            current, state = await self._read(draft_id)
            if state not in RUNNING:
                return None
            if current.pending == 0:
                final = replace(current, finished=True)
                if not await self.finish(draft_id, final):
                    return None
                await sink.show(final)
                return final
            if current != shown:
                await sink.show(current)
                shown = current
            await sleep(every)


async def _state(session: AsyncSession, draft_id: int) -> str | None:
    return (
        await session.execute(select(AuditLog.result).where(AuditLog.id == draft_id))
    ).scalar_one_or_none()
