"""The broadcast's pace and loop (payments/admin/pacing.py): token bucket, 429s, stops."""

from __future__ import annotations

import asyncio

import pytest

from payments.admin.pacing import (
    BroadcastProgress,
    Delivery,
    RetryLater,
    TokenBucket,
    send_broadcast,
)


class VirtualTime:
    """A clock and a sleep that only move when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


class ScriptedSender:
    """Answers per chat from a script (default: sent); records when each send happened."""

    def __init__(self, clock: VirtualTime, script: dict[int, list[Delivery | RetryLater]]) -> None:
        self.clock = clock
        self.script = {chat: list(answers) for chat, answers in script.items()}
        self.calls: list[tuple[float, int]] = []

    async def send_text(self, chat_id: int, text: str) -> Delivery | RetryLater:
        self.calls.append((self.clock.now, chat_id))
        answers = self.script.get(chat_id)
        return answers.pop(0) if answers else Delivery.SENT

    def delivered(self) -> list[int]:
        """Chats whose last call was a success (a SENT answer ends a chat's attempts)."""
        return [chat for _, chat in self.calls if chat not in self.script or not self.script[chat]]


class Shown:
    """Records every progress shown; can press Stop when a condition holds."""

    def __init__(self, stop: asyncio.Event, stop_when_done: int | None = None) -> None:
        self.seen: list[BroadcastProgress] = []
        self.stop = stop
        self.stop_when_done = stop_when_done

    async def show(self, progress: BroadcastProgress) -> None:
        self.seen.append(progress)
        if self.stop_when_done is not None and progress.done >= self.stop_when_done:
            self.stop.set()


async def _no_block(_: int) -> None:
    return None


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    return max(sum(1 for other in times if start <= other < start + window) for start in times)


async def test_token_bucket_keeps_any_second_under_rate_plus_burst() -> None:
    clock = VirtualTime()
    bucket = TokenBucket(25.0, burst=2, monotonic=clock.monotonic, sleep=clock.sleep)
    stamps = []
    for _ in range(200):
        await bucket.acquire()
        stamps.append(clock.now)
    assert _max_in_window(stamps) <= 27
    assert clock.now == pytest.approx((200 - 2) / 25.0)


async def test_a_pause_holds_every_call_and_restarts_without_a_burst() -> None:
    clock = VirtualTime()
    bucket = TokenBucket(25.0, burst=5, monotonic=clock.monotonic, sleep=clock.sleep)
    await bucket.acquire()
    bucket.pause(3.0)
    await bucket.acquire()
    assert clock.now >= 3.0
    resumed = clock.now
    await bucket.acquire()
    assert clock.now - resumed == pytest.approx(1 / 25.0)


async def test_a_429_retries_the_same_chat_until_sent_and_loses_nothing() -> None:
    clock = VirtualTime()
    chats = list(range(1, 101))
    script: dict[int, list[Delivery | RetryLater]] = {
        7: [RetryLater(2.0)] * 5,  # beyond any fixed number of retries
        50: [RetryLater(1.0), Delivery.SENT],
        60: [Delivery.BLOCKED],
        70: [RetryLater(1.0, rate_limited=False)] * 2,
        80: [RetryLater(1.0, rate_limited=False)] * 9,  # network down for this chat: gives up
        90: [Delivery.FAILED],
    }
    sender = ScriptedSender(clock, script)
    stop = asyncio.Event()
    shown = Shown(stop)
    blocked: list[int] = []

    async def on_blocked(chat: int) -> None:
        blocked.append(chat)

    bucket = TokenBucket(25.0, burst=2, monotonic=clock.monotonic, sleep=clock.sleep)
    final = await send_broadcast(
        chats,
        "hi",
        sender=sender,
        progress=shown,
        bucket=bucket,
        stop=stop,
        on_blocked=on_blocked,
        monotonic=clock.monotonic,
    )
    assert (final.sent, final.blocked, final.failed, final.total) == (97, 1, 2, 100)
    assert final.finished and not final.stopped
    assert blocked == [60]
    sent_to = [chat for _, chat in sender.calls]
    assert sent_to.count(7) == 6 and sent_to.count(50) == 2 and sent_to.count(80) == 4
    assert list(dict.fromkeys(sent_to)) == chats  # order kept, nobody skipped
    # The 429 paused everyone: nothing was sent during chat 7's waits.
    first_7 = next(at for at, chat in sender.calls if chat == 7)
    assert all(at >= first_7 + 10.0 for at, chat in sender.calls if chat > 7)
    assert shown.seen[-1] == final
    assert 4 <= len(shown.seen) <= 1 + 100 // 25 + 30  # every 25 or 2 s, and the end


async def test_stop_ends_after_the_current_message() -> None:
    clock = VirtualTime()
    sender = ScriptedSender(clock, {})
    stop = asyncio.Event()
    shown = Shown(stop, stop_when_done=25)
    bucket = TokenBucket(25.0, monotonic=clock.monotonic, sleep=clock.sleep)
    final = await send_broadcast(
        list(range(100)),
        "hi",
        sender=sender,
        progress=shown,
        bucket=bucket,
        stop=stop,
        on_blocked=_no_block,
        monotonic=clock.monotonic,
    )
    assert final.stopped and final.done == 25 and len(sender.calls) == 25
    assert shown.seen[-1].finished


async def test_a_stop_asked_on_another_instance_is_seen_at_the_next_tick() -> None:
    clock = VirtualTime()
    sender = ScriptedSender(clock, {})
    stop = asyncio.Event()
    asked = {"n": 0}

    async def stop_requested() -> bool:
        asked["n"] += 1
        return asked["n"] >= 2

    bucket = TokenBucket(25.0, monotonic=clock.monotonic, sleep=clock.sleep)
    final = await send_broadcast(
        list(range(100)),
        "hi",
        sender=sender,
        progress=Shown(stop),
        bucket=bucket,
        stop=stop,
        on_blocked=_no_block,
        stop_requested=stop_requested,
        monotonic=clock.monotonic,
    )
    assert final.stopped and final.done == 50
