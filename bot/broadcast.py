"""Broadcasts in the bot: the outbox deliverer of kind "broadcast", and the watchers that edit
each admin's progress message.

The messages themselves go through the sending lane (payments/outbox/lane.py), which paces them
within Telegram's budget behind every transactional message and survives restarts. This module
says how one send ended (an Outcome) and shows the counts per status of a broadcast's rows.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot import keyboards
from bot.factory import WAIT_ON_RETRY_AFTER
from bot.outbox_delivery import outcome_of
from bot.texts import t
from payments.admin.audience import KIND_BROADCAST
from payments.admin.broadcast import (
    STOPPED_ERROR,
    WATCH_SECONDS,
    Broadcaster,
    BroadcastProgress,
    ProgressSpot,
)
from payments.outbox.lane import SendingLane
from payments.outbox.outcomes import Deliver, Envelope, GiveUp, Outcome, Sent

log = logging.getLogger(__name__)

RECHECK_SECONDS = 0.5


def broadcast_deliverer(
    bot: Bot, broadcaster: Broadcaster, *, recheck: float = RECHECK_SECONDS
) -> Deliver:
    """Return the lane's deliverer of kind "broadcast": one text to one chat.

    A row claimed before the admin pressed Stop is given up unsent ("stopped by an admin"):
    the lane may hold a few dozen rows in hand, and none of them goes out more than `recheck`
    seconds after Stop. The state is looked up at most once per `recheck` per broadcast, not
    per message, so the database stays out of the way of the pace.
    """
    checked: dict[int, tuple[float, bool]] = {}

    async def may_send(broadcast_id: int) -> bool:
        now = time.monotonic()
        at, sending = checked.get(broadcast_id, (0.0, True))
        if sending and now - at >= recheck:
            sending = await broadcaster.still_sending(broadcast_id)
            checked[broadcast_id] = (now, sending)
        return sending

    async def deliver(envelope: Envelope) -> Outcome:
        if envelope.chat_id is None:
            return GiveUp("a broadcast row without a chat")
        if envelope.broadcast_id is not None and not await may_send(envelope.broadcast_id):
            return GiveUp(STOPPED_ERROR)
        text = str(envelope.payload.get("text", ""))
        return await send_text(bot, envelope.chat_id, text, envelope.attempts)

    return deliver


async def send_text(bot: Bot, chat_id: int, text: str, attempts: int = 1) -> Outcome:
    """Send `text` (HTML) to a chat and say what Telegram's answer means for the row.

    A 429 comes straight back (the session's middleware does not sleep inside a delivery):
    the lane puts back that one row for retry_after and goes on with the other chats.
    """
    WAIT_ON_RETRY_AFTER.set(False)  # this delivery's task only
    try:
        await bot.send_message(chat_id, text)
    except TelegramAPIError as exc:
        outcome = outcome_of(exc, attempts)
        log.info("broadcast: chat %s: %s", chat_id, outcome)
        return outcome
    return Sent()


def progress_text(lang: str, draft_id: int, progress: BroadcastProgress) -> str:
    """Render the counters of a broadcast."""
    key = "adm_bc_progress"
    if progress.finished:
        key = "adm_bc_stopped" if progress.stopped else "adm_bc_finished"
    return t(
        lang,
        key,
        id=draft_id,
        done=progress.done,
        total=progress.total,
        sent=progress.sent,
        blocked=progress.blocked,
        failed=progress.failed,
    )


class TelegramProgress:
    """Edit the admin's progress message; a Stop button until the broadcast ends."""

    def __init__(self, bot: Bot, *, spot: ProgressSpot, draft_id: int) -> None:
        """Keep where the progress message is (each edit takes a token of the bot's budget)."""
        self._bot = bot
        self._spot = spot
        self._draft_id = draft_id

    async def show(self, progress: BroadcastProgress) -> None:
        """Show the counters; the final state is sent anew if the message cannot be edited."""
        spot = self._spot
        text = progress_text(spot.lang, self._draft_id, progress)
        markup = None if progress.finished else keyboards.broadcast_stop(spot.lang, self._draft_id)
        try:
            await self._bot.edit_message_text(
                text=text,
                chat_id=spot.chat_id,
                message_id=spot.message_id,
                reply_markup=markup,
                parse_mode=None,
            )
        except TelegramBadRequest as exc:
            if "not modified" in str(exc):
                return
            log.info("broadcast %s: progress not edited: %s", self._draft_id, exc)
            if progress.finished:
                await self._send_final(text)
        except TelegramAPIError as exc:
            log.info("broadcast %s: progress not edited: %s", self._draft_id, exc)
            if progress.finished:
                await self._send_final(text)

    async def _send_final(self, text: str) -> None:
        try:
            await self._bot.send_message(self._spot.chat_id, text, parse_mode=None)
        except TelegramAPIError as exc:
            log.warning("broadcast %s: final progress not shown: %s", self._draft_id, exc)


class NoProgress:
    """A ProgressSink for a broadcast whose progress message is unknown: shows nothing."""

    async def show(self, progress: BroadcastProgress) -> None:
        """Show nothing."""


class Broadcasts:
    """The progress watchers this process runs; the sending itself is the lane's."""

    def __init__(
        self,
        *,
        bot: Bot,
        broadcaster: Broadcaster,
        every: float = WATCH_SECONDS,
    ) -> None:
        """Keep the bot and the broadcaster."""
        self._bot = bot
        self._broadcaster = broadcaster
        self._every = every
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def register(self, lane: SendingLane) -> None:
        """Deliver rows of kind "broadcast" through `lane`."""
        lane.register(KIND_BROADCAST, broadcast_deliverer(self._bot, self._broadcaster))

    def watch(self, draft_id: int, spot: ProgressSpot | None) -> None:
        """Watch a confirmed broadcast until it ends, editing its progress message."""
        if draft_id in self._tasks:
            return
        sink = (
            NoProgress()
            if spot is None
            else TelegramProgress(self._bot, spot=spot, draft_id=draft_id)
        )
        task = asyncio.create_task(self._run(draft_id, sink), name=f"broadcast-{draft_id}")
        self._tasks[draft_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(draft_id, None))

    async def resume(self) -> list[int]:
        """Watch again the broadcasts still sending (after a restart); return their ids."""
        running = await self._broadcaster.running()
        for broadcast in running:
            log.info("broadcast %s: still sending; watching it again", broadcast.id)
            self.watch(broadcast.id, broadcast.spot)
        return [broadcast.id for broadcast in running]

    async def _run(self, draft_id: int, sink: TelegramProgress | NoProgress) -> None:
        while True:
            try:
                await self._broadcaster.watch(draft_id, sink, every=self._every)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away for a moment: keep watching
                log.exception("broadcast %s: progress not read; trying again", draft_id)
                await asyncio.sleep(self._every)
                continue
            return

    def running(self) -> list[int]:
        """Return the broadcasts watched by this process."""
        return list(self._tasks)

    async def wait(self, draft_id: int) -> None:
        """Wait until a broadcast watched here ends (for tests)."""
        task = self._tasks.get(draft_id)
        if task is not None:
            await asyncio.shield(task)

    async def close(self) -> None:
        """Stop watching (at shutdown); the broadcasts go on, watched again after a restart."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
