"""Sending a broadcast: the ports the bot implements (ChatSender, ProgressSink), the shared pace
(TokenBucket) and the loop that sends to every recipient without losing one to a rate limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

TOKEN_TOLERANCE = 1e-9


class Delivery(StrEnum):
    """How sending one broadcast message ended."""

    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot: marked, skipped from now on
    FAILED = "failed"  # anything else final (chat gone, bad request)


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Send the same message again after `seconds` (429 when `rate_limited`, else transient)."""

    seconds: float
    rate_limited: bool = True


class ChatSender(Protocol):
    """Sends one text to one chat; never raises for Telegram's answers."""

    async def send_text(self, chat_id: int, text: str) -> Delivery | RetryLater:
        """Send and say how it went."""
        ...


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """Counters of a running or finished broadcast."""

    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    waits: int = 0
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


class TokenBucket:
    """Pace calls to `rate` a second with bursts of at most `burst`; `pause` holds everything.

    Telegram's limit is per bot, so a 429 pauses the whole bucket for `retry_after`, not just
    the chat that got it. Time and sleep are injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        """Start full."""
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._monotonic = monotonic
        self._sleep = sleep
        self._stamp = monotonic()
        self._paused_until = 0.0

    async def acquire(self) -> None:
        """Wait for a token."""
        while True:
            now = self._monotonic()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                continue
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            # The tolerance absorbs float rounding, which could otherwise ask for sleeps too
            # short to move a clock and spin here.
            if self._tokens >= 1.0 - TOKEN_TOLERANCE:
                self._tokens = max(0.0, self._tokens - 1.0)
                return
            await self._sleep((1.0 - self._tokens) / self._rate)

    def pause(self, seconds: float) -> None:
        """Hold every call for `seconds` and restart slowly (no burst right after a 429)."""
        until = self._monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self._stamp = until
            self._tokens = 0.0


async def send_broadcast(
    recipients: Sequence[int],
    text: str,
    *,
    sender: ChatSender,
    progress: ProgressSink,
    bucket: TokenBucket,
    stop: asyncio.Event,
    on_blocked: Callable[[int], Awaitable[None]],
    stop_requested: Callable[[], Awaitable[bool]] | None = None,
    on_finish: Callable[[BroadcastProgress], Awaitable[None]] | None = None,
    tick_every: int = 25,
    tick_seconds: float = 2.0,
    transient_retries: int = 3,
    monotonic: Callable[[], float] = time.monotonic,
) -> BroadcastProgress:
    """Send `text` to every recipient, paced by `bucket`, and return the final counters.

    A 429 pauses the bucket for `retry_after` and the SAME recipient is tried again, as often as
    it takes: a rate limit never loses a message. Transient failures (network) are retried a few
    times, then counted failed. Progress is shown every `tick_every` recipients or
    `tick_seconds`, whichever comes first, and at the end. Setting `stop` (or `stop_requested`
    answering True at a tick, for a stop pressed on another instance) ends the loop after the
    message being sent. `on_finish` records the outcome before the final progress is shown.
    """
    state = BroadcastProgress(total=len(recipients))
    shown_done, shown_at = 0, monotonic()
    for chat_id in recipients:
        if stop.is_set():
            break
        transient = 0
        outcome: Delivery | None = None
        while outcome is None:
            await bucket.acquire()
            answer = await sender.send_text(chat_id, text)
            if isinstance(answer, Delivery):
                outcome = answer
                break
            bucket.pause(answer.seconds)
            state = replace(state, waits=state.waits + 1)
            if not answer.rate_limited:
                transient += 1
                if transient > transient_retries:
                    outcome = Delivery.FAILED
            if outcome is None and stop.is_set():
                break
        if outcome is None:
            break
        if outcome is Delivery.SENT:
            state = replace(state, sent=state.sent + 1)
        elif outcome is Delivery.BLOCKED:
            state = replace(state, blocked=state.blocked + 1)
            await on_blocked(chat_id)
        else:
            state = replace(state, failed=state.failed + 1)
        if state.done - shown_done >= tick_every or monotonic() - shown_at >= tick_seconds:
            if stop_requested is not None and await stop_requested():
                stop.set()
            if state.done < state.total:
                await progress.show(state)
            shown_done, shown_at = state.done, monotonic()
    final = replace(state, finished=True, stopped=state.done < state.total)
    if on_finish is not None:
        await on_finish(final)
    await progress.show(final)
    return final
