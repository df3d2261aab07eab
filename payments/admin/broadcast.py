"""Broadcasts for /broadcast: a draft to confirm, sent once, stoppable from any instance.

A broadcast's audit row carries its state in `result`, moved by conditional UPDATEs:
awaiting confirmation → sending → (stop requested →) the outcome, or → canceled. Two presses,
two admins or two instances can confirm it only once. The sending itself is `pacing`'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from db.repositories import audit as audit_repo
from db.repositories.users import mark_blocked
from payments.admin import audit
from payments.admin.pacing import (
    BroadcastProgress,
    ChatSender,
    ProgressSink,
    TokenBucket,
    send_broadcast,
)
from payments.ports import Clock

log = logging.getLogger(__name__)

BROADCAST_DRAFT = "awaiting confirmation"
BROADCAST_SENDING = "sending"
BROADCAST_STOPPING = "stop requested"
BROADCAST_CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class BroadcastDraft:
    """A broadcast waiting for confirmation: its audit row id and how many would get it."""

    id: int
    recipients: int
    text: str


class Broadcaster:
    """Draft, confirm, cancel, stop and run broadcasts to every user who did not block us."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        """Keep the collaborators."""
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def audience(self, exclude: int | None = None) -> list[int]:
        """Return the chats a broadcast goes to: users with a Telegram id who did not block us."""
        async with self._sessionmaker() as session:
            ids = (
                await session.execute(
                    select(User.id)
                    .where(User.is_blocked.is_(False))
                    .order_by(User.created_at, User.id)
                )
            ).scalars()
            chats = [int(i) for i in ids if i.isascii() and i.isdigit()]
        return [chat for chat in chats if chat != exclude]

    async def draft_broadcast(self, admin_id: int, text: str) -> BroadcastDraft:
        """Record a broadcast awaiting confirmation; the sender is not among its recipients."""
        recipients = len(await self.audience(exclude=admin_id))
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

    async def _move_broadcast(
        self, admin_id: int, draft_id: int, action: str, from_results: Sequence[str], to: str
    ) -> bool:
        async with self._sessionmaker.begin() as session:
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

    async def confirm_broadcast(self, admin_id: int, draft_id: int) -> BroadcastDraft | None:
        """Confirm a draft, once (two presses, two admins, two instances: one send)."""
        if not await self._move_broadcast(
            admin_id, draft_id, "broadcast_send", (BROADCAST_DRAFT,), BROADCAST_SENDING
        ):
            return None
        async with self._sessionmaker() as session:
            entry = await audit_repo.get_entry(session, draft_id)
        assert entry is not None  # noqa: S101 - it just moved
        return BroadcastDraft(draft_id, int(entry.args.get("recipients", 0)), entry.args["text"])

    async def cancel_broadcast(self, admin_id: int, draft_id: int) -> bool:
        """Drop a draft that was not sent."""
        return await self._move_broadcast(
            admin_id, draft_id, "broadcast_cancel", (BROADCAST_DRAFT,), BROADCAST_CANCELED
        )

    async def request_stop(self, admin_id: int, draft_id: int) -> bool:
        """Ask a running broadcast to stop (seen by whichever instance runs it)."""
        return await self._move_broadcast(
            admin_id, draft_id, "broadcast_stop", (BROADCAST_SENDING,), BROADCAST_STOPPING
        )

    async def run_broadcast(
        self,
        draft_id: int,
        *,
        sender: ChatSender,
        progress: ProgressSink,
        stop: asyncio.Event,
        bucket: TokenBucket,
    ) -> BroadcastProgress:
        """Send a confirmed broadcast to its audience now; record the outcome on its row."""
        async with self._sessionmaker() as session:
            entry = await audit_repo.get_entry(session, draft_id)
        if entry is None or entry.action != "broadcast":
            raise LookupError(f"no broadcast {draft_id}")
        recipients = await self.audience(exclude=entry.admin_id)

        async def on_blocked(chat_id: int) -> None:
            async with self._sessionmaker.begin() as session:
                await mark_blocked(session, str(chat_id))

        async def stop_requested() -> bool:
            async with self._sessionmaker() as session:
                row = await audit_repo.get_entry(session, draft_id)
            return row is not None and row.result == BROADCAST_STOPPING

        async def record(outcome: str) -> None:
            async with self._sessionmaker.begin() as session:
                await audit_repo.move_result(
                    session,
                    draft_id,
                    action="broadcast",
                    from_results=(BROADCAST_SENDING, BROADCAST_STOPPING),
                    to=outcome,
                )
            log.info("broadcast %s: %s", draft_id, outcome)

        async def on_finish(final: BroadcastProgress) -> None:
            await record(
                f"sent {final.sent} of {final.total}; blocked {final.blocked}; "
                f"failed {final.failed}; 429 waits {final.waits}"
                + (f"; stopped at {final.done}/{final.total}" if final.stopped else "")
            )

        try:
            return await send_broadcast(
                recipients,
                str(entry.args["text"]),
                sender=sender,
                progress=progress,
                bucket=bucket,
                stop=stop,
                on_blocked=on_blocked,
                stop_requested=stop_requested,
                on_finish=on_finish,
            )
        except BaseException:
            # Cancelled at shutdown or failed: say so, unless the outcome is already recorded.
            try:
                await asyncio.shield(record("interrupted"))
            except Exception:
                log.exception("broadcast %s: the outcome could not be recorded", draft_id)
            raise
