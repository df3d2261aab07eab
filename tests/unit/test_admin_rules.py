"""Pure parts of the admin console: pacing, the broadcast loop, pro-rata days, CSV cells,
argument parsing, and a text for every refusal."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, User

from bot.callbacks import AdminCb, BroadcastCb, MenuCb
from bot.texts import _TEXTS, EN, RU, t
from handlers.admin import (
    ADMIN_COMMANDS,
    _admin_button,
    _admin_command,
    broadcast_text,
    parse_clock,
    parse_count,
    parse_day,
    parse_refund_amount,
)
from payments.admin import (
    BroadcastProgress,
    Delivery,
    RetryLater,
    TokenBucket,
    csv_cell,
    removed_days,
    send_broadcast,
)
from payments.charts import ChartLabels, revenue_chart


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


@pytest.mark.parametrize(
    ("days", "refunded", "amount", "removed"),
    [
        (30, "149.50", "299.00", 15),
        (30, "99.67", "299.00", 10),
        (30, "0.01", "299.00", 0),
        (30, "299.00", "299.00", 30),
        (30, "500.00", "299.00", 30),
        (365, "1000.00", "2999.00", 122),  # 121.707… rounds half up to 122
        (90, "0.00", "799.00", 0),
    ],
)
def test_days_removed_are_pro_rata_rounded_half_up(
    days: int, refunded: str, amount: str, removed: int
) -> None:
    assert removed_days(days, Decimal(refunded), Decimal(amount)) == removed


def test_partial_refunds_add_up_to_the_whole_period() -> None:
    amount = Decimal("299.00")
    steps = [Decimal("99.67"), Decimal("99.67"), Decimal("99.66")]
    total = Decimal("0.00")
    removed = 0
    for step in steps:
        removed += removed_days(30, total + step, amount) - removed_days(30, total, amount)
        total += step
    assert removed == 30


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+7 999", "'+7 999"),
        ("@cmd", "'@cmd"),
        ("plain", "plain"),
        (Decimal("299"), "299.00"),
        (True, "true"),
        (None, ""),
    ],
)
def test_csv_cells_never_run_as_formulas(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_dates_times_and_amounts_are_parsed_strictly() -> None:
    assert parse_day("2026-07-01") == date(2026, 7, 1)
    assert parse_day("01.07.2026") == date(2026, 7, 1)
    assert parse_day("31.02.2026") is None
    assert parse_day("2026/07/01") is None
    assert parse_clock("9:30") == "09:30"
    assert parse_clock("24:00") is None
    assert parse_count("150") == 150
    assert parse_count("-1") is None
    assert parse_refund_amount("500") == Decimal("500.00")
    assert parse_refund_amount("500,5") == Decimal("500.50")
    assert parse_refund_amount("500.555") is None
    assert parse_refund_amount("1e3") is None


def test_broadcast_text_keeps_formatting_and_escapes_the_rest() -> None:
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=1, type="private"),
        text="/broadcast Sale <today> & bold",
        entities=[
            MessageEntity(type="bot_command", offset=0, length=10),
            MessageEntity(type="bold", offset=26, length=4),
        ],
    )
    assert broadcast_text(message) == "Sale &lt;today&gt; &amp; <b>bold</b>"


def test_every_refusal_has_a_text_in_both_languages() -> None:
    source = Path("payments/admin.py").read_text(encoding="utf-8")
    reasons = set(re.findall(r'Refusal\(\s*"(\w+)"', source))
    assert len(reasons) >= 15
    for reason in reasons:
        assert f"adm_no_{reason}" in _TEXTS, reason
        for lang in (RU, EN):
            assert t(lang, f"adm_no_{reason}", **dict.fromkeys(_fields(reason), "x"))


def _fields(reason: str) -> set[str]:
    ru, en = _TEXTS[f"adm_no_{reason}"]
    return set(re.findall(r"\{(\w+)\}", ru + en))


async def test_the_chart_is_a_png_drawn_without_pyplot_state() -> None:
    series = [(date(2026, 3, day), Decimal(day * 100), Decimal("299.00")) for day in range(1, 31)]
    labels = ChartLabels("Выручка", "Билеты", "Подписки")
    first, second = await asyncio.gather(
        asyncio.to_thread(revenue_chart, series, labels),
        asyncio.to_thread(revenue_chart, series, labels),
    )
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert first == second


def _text(text: str | None, caption: str | None = None) -> Message:
    return Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=1, type="private"),
        text=text,
        caption=caption,
    )


def test_the_console_gate_lets_every_admin_command_through_and_nothing_else() -> None:
    # The gate only skips routers; it must never hide a command aiogram's Command would take.
    for command in ADMIN_COMMANDS:
        for text in (f"/{command}", f"/{command} 12 extra", f"/{command}@ZooBot arg"):
            assert _admin_command(_text(text)), text
    assert _admin_command(_text(None, caption="/stats"))
    for text in ("/my", "/start", "stats", "/", "/ stats", "", "/statsx", "hello /stats"):
        assert not _admin_command(_text(text)), text
    assert not _admin_command(_text(None))


def test_the_console_gate_knows_admin_buttons() -> None:
    def press(data: str | None) -> CallbackQuery:
        return CallbackQuery(
            id="1", from_user=User(id=1, is_bot=False, first_name="A"), chat_instance="c", data=data
        )

    assert _admin_button(press(AdminCb(action="stats").pack()))
    assert _admin_button(press(BroadcastCb(action="send", id=7).pack()))
    for data in (MenuCb(action="my").pack(), "admin", "", None, "adm"):
        assert _admin_button(press(data)) is (data == "adm"), data
