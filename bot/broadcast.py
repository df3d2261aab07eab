"""Broadcasts in the bot: Telegram behind the ChatSender and ProgressSink ports of the admin
console, and the background tasks that run them.

Pacing and retries live in `payments.admin.pacing.send_broadcast`; this module only says how a send
ended. The session's RetryAfterMiddleware already sleeps through a few 429s; when it gives up it
raises TelegramRetryAfter, which becomes RetryLater here, and the loop waits and sends to the
same chat again, so a rate limit never loses a message.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot import keyboards
from bot.texts import t
from payments.admin.broadcast import Broadcaster
from payments.admin.pacing import BroadcastProgress, Delivery, RetryLater, TokenBucket

log = logging.getLogger(__name__)

# Telegram allows about 30 messages a second to different chats; stay under it with room for
# the progress edits and the bot's other traffic.
BROADCAST_RATE = 25.0
BROADCAST_BURST = 2
TRANSIENT_WAIT_SECONDS = 1.0


class TelegramChatSender:
    """Send one broadcast message and classify Telegram's answer."""

    def __init__(self, bot: Bot) -> None:
        """Keep the bot."""
        self._bot = bot

    async def send_text(self, chat_id: int, text: str) -> Delivery | RetryLater:
        """Send `text` (HTML) to a chat."""
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramRetryAfter as exc:
            log.info("broadcast: 429 for chat %s, waiting %ss", chat_id, exc.retry_after)
            return RetryLater(float(exc.retry_after))
        except TelegramForbiddenError:
            return Delivery.BLOCKED
        except (TelegramNetworkError, TelegramServerError) as exc:
            log.warning("broadcast: chat %s not reached (%s); will retry", chat_id, exc)
            return RetryLater(TRANSIENT_WAIT_SECONDS, rate_limited=False)
        except TelegramAPIError as exc:
            log.info("broadcast: chat %s refused: %s", chat_id, exc)
            return Delivery.FAILED
        return Delivery.SENT


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

    def __init__(
        self, bot: Bot, *, chat_id: int, message_id: int, lang: str, draft_id: int
    ) -> None:
        """Keep where the progress message is."""
        self._bot = bot
        self._chat_id = chat_id
        self._message_id = message_id
        self._lang = lang
        self._draft_id = draft_id

    async def show(self, progress: BroadcastProgress) -> None:
        """Show the counters; the final state is sent anew if the message cannot be edited."""
        text = progress_text(self._lang, self._draft_id, progress)
        markup = None if progress.finished else keyboards.broadcast_stop(self._lang, self._draft_id)
        try:
            await self._bot.edit_message_text(
                text=text,
                chat_id=self._chat_id,
                message_id=self._message_id,
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
            await self._bot.send_message(self._chat_id, text, parse_mode=None)
        except TelegramAPIError as exc:
            log.warning("broadcast %s: final progress not shown: %s", self._draft_id, exc)


class Broadcasts:
    """The broadcasts this process runs: one shared pace, a stop flag each, tasks kept alive."""

    def __init__(
        self,
        *,
        bot: Bot,
        broadcaster: Broadcaster,
        rate: float = BROADCAST_RATE,
        burst: int = BROADCAST_BURST,
    ) -> None:
        """Keep the bot and the broadcaster; every broadcast shares one token bucket."""
        self._bot = bot
        self._broadcaster = broadcaster
        self._sender = TelegramChatSender(bot)
        self._bucket = TokenBucket(rate, burst)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stops: dict[int, asyncio.Event] = {}

    def start(self, draft_id: int, *, chat_id: int, message_id: int, lang: str) -> None:
        """Run a confirmed broadcast in the background, reporting into a message."""
        progress = TelegramProgress(
            self._bot, chat_id=chat_id, message_id=message_id, lang=lang, draft_id=draft_id
        )
        stop = asyncio.Event()
        task = asyncio.create_task(
            self._run(draft_id, progress, stop), name=f"broadcast-{draft_id}"
        )
        self._tasks[draft_id] = task
        self._stops[draft_id] = stop
        task.add_done_callback(lambda _: self._forget(draft_id))

    def _forget(self, draft_id: int) -> None:
        self._tasks.pop(draft_id, None)
        self._stops.pop(draft_id, None)

    async def _run(self, draft_id: int, progress: TelegramProgress, stop: asyncio.Event) -> None:
        try:
            await self._broadcaster.run_broadcast(
                draft_id, sender=self._sender, progress=progress, stop=stop, bucket=self._bucket
            )
        except Exception:
            log.exception("broadcast %s failed", draft_id)

    def stop(self, draft_id: int) -> bool:
        """Ask a broadcast running here to stop after its current message."""
        stop = self._stops.get(draft_id)
        if stop is None:
            return False
        stop.set()
        return True

    def running(self) -> list[int]:
        """Return the drafts being sent by this process."""
        return list(self._tasks)

    async def wait(self, draft_id: int) -> None:
        """Wait until a broadcast running here ends (for tests and shutdown)."""
        task = self._tasks.get(draft_id)
        if task is not None:
            await asyncio.shield(task)
