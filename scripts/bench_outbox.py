"""make bench's outbox: one sending lane under Telegram's budget, and restarts that lose nothing.

1. A broadcast to 20 000 users goes out through the outbox while customers buy tickets through
   the bot; their payment confirmations must still go out quickly (transactional ahead of the
   broadcast). Mid-way the service process is killed with SIGKILL and started again: each
   remaining message must go out exactly once, except the one or few whose send had started
   at the kill: those are given up with a logged reason (they may have reached their chats).
   The fake Telegram counts the messages per chat and timestamps every call, which gives the
   rate (goal 28–30 a second, never over 30 in any second).
2. A crash between a payment's commit and its confirmation: an instance without a sending lane
   (OUTBOX_SENDER=false) takes the payments and is killed with SIGKILL; a normal instance starts
   and must confirm each payment exactly once.

The service runs as `python main.py` in a process of its own; the fakes run in this process.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench_journey import PAID_TEXT, Customer, journey
from bench_kit import SECRET, SHOP, OwnStalls, Row
from bench_proc import REDIS_URL, ServiceProcess, database, kinds, log, pct, sized
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import Base
from db.engine import create_engine
from db.migrate import upgrade
from db.models_outbox import OutboxMessage
from payments.outbox.statements import IN_FLIGHT_ERROR, UNSENT
from payments.outbox.store import PRIORITY_BROADCAST
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.yookassa_api import FakeYooKassa

RECIPIENTS = sized(20_000, 600)
BUYERS = sized(30, 6)
CRASH_PAYMENTS = sized(10, 3)
FIRST_RECIPIENT = 5_000_000
FIRST_BUYER = 6_000_000
ADMIN = 900_001
TEXT = "Bench broadcast: the zoo opens the winter garden"
BUDGET = 30  # Telegram's ~30 messages a second for a bot
WAIT_LIMIT = 3600.0


async def add_users(url: str, ids: list[int]) -> None:
    """Insert users in bulk (migrating the database first)."""
    engine = create_engine(url)
    now = datetime.now(UTC) - timedelta(days=1)
    try:
        await upgrade(engine)
        table = Base.metadata.tables["users"]
        async with engine.begin() as connection:
            for start in range(0, len(ids), 5000):
                await connection.execute(
                    insert(table),
                    [
                        {"id": str(i), "first_name": f"R{i}", "language": "ru", "created_at": now}
                        for i in ids[start : start + 5000]
                    ],
                )
    finally:
        await engine.dispose()


def service_env(
    url: str, fake: FakeTelegramAPI, yookassa: FakeYooKassa, kind: str
) -> dict[str, str]:
    """Settings of the service process."""
    env = {
        "DATABASE_URL": url,
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE": fake.base_url,
        "ADMIN_IDS": str(ADMIN),
        "YOOKASSA_SHOP_ID": SHOP,
        "YOOKASSA_SECRET_KEY": SECRET,
        "YOOKASSA_API_URL": yookassa.api_url,
        "YOOKASSA_TRUSTED_NETWORKS": "127.0.0.0/8",
        "LOG_LEVEL": "WARNING",
    }
    if kind == "postgresql" and REDIS_URL:
        env["REDIS_URL"] = REDIS_URL
    return env


def sends(fake: FakeTelegramAPI, since: float = 0.0) -> list[tuple[float, str, dict[str, Any]]]:
    """Every send/edit call the fake recorded after `since`: (time, method, params)."""
    return [
        (moment, name, params)
        for (name, params), moment in zip(fake.requests, fake.request_times, strict=False)
        if moment >= since and name.startswith(("send", "edit"))
    ]


@dataclass
class Broadcast:
    """The figures of the broadcast with a kill -9 in the middle."""

    kind: str
    recipients: int
    rate: float = 0.0
    # Every send and edit (the broadcast, buyers' answers, confirmations, progress edits).
    overall: float = 0.0
    busiest: int = 0
    refused: int = 0
    sent_before_kill: int = 0
    restart_seconds: float = 0.0
    per_chat: Counter[int] = field(default_factory=Counter)
    # Broadcast rows given up because their send had started when the instance was killed.
    given_up_in_flight: int = 0
    confirmations: list[float] = field(default_factory=list)
    buyers: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def busiest_window(moments: list[float]) -> tuple[int, float]:
    """The most moments in any one-second window (what Telegram's ~30/s counts) and its start."""
    ordered, best, start, left = sorted(moments), 0, 0.0, 0
    for right, moment in enumerate(ordered):
        while ordered[left] <= moment - 1.0:
            left += 1
        if right - left + 1 > best:
            best, start = right - left + 1, ordered[left]
    return best, start


async def broadcast(kind: str, tmp: Path) -> Broadcast:
    """Broadcast to RECIPIENTS users with buyers paying meanwhile; kill -9 mid-way; restart."""
    folder = tmp / f"outbox-{kind}"
    folder.mkdir()
    ids = list(range(FIRST_RECIPIENT, FIRST_RECIPIENT + RECIPIENTS))
    result = Broadcast(kind, RECIPIENTS)
    async with (
        database(kind, folder, "outbox") as url,
        FakeTelegramAPI(validate_html=False, callback_ttl=120) as fake,
        FakeYooKassa(shop_id=SHOP, secret_key=SECRET) as yookassa,
    ):
        await add_users(url, ids)
        service = ServiceProcess(service_env(url, fake, yookassa, kind), folder)
        await service.start()
        yookassa.notification_url = f"{service.base_url}/api/v2/payments/webhook/yookassa"
        admin = fake.user(ADMIN, first_name="Admin")
        await admin.send(f"/broadcast {TEXT}")
        confirm = await admin.wait_for(lambda m: "✅ Отправить" in m.button_texts(), 60)
        found = re.search(r"(\d[\d\s]*) получател", confirm.text or "")
        log(f"outbox {kind}: confirm says {found.group(0) if found else confirm.text!r}")
        # The fake's 20 000 users and chats live to the end: no collection needs to walk them.
        # What it records meanwhile (every message) lives to the end too, and full collections
        # walking it took 145-217 ms: requests that reached the stalled fake were then stamped
        # together (a busiest second of 32, 31 of them broadcast, at one such collection).
        stalls = OwnStalls()
        stalls.start()
        started = time.perf_counter()
        began = time.monotonic()
        await admin.press("✅ Отправить", confirm)

        def delivered() -> int:
            return sum(1 for i in ids if fake.chat(i).bot_messages)

        visit = datetime.now(ZoneInfo("Europe/Moscow")).date() + timedelta(days=1)
        records = [Customer() for _ in range(BUYERS)]
        kill_at = RECIPIENTS // 2

        async def buyer(number: int) -> None:
            # Spread over the first ~third of the broadcast, so all finish before the kill.
            span = RECIPIENTS / 28 / 3
            await asyncio.sleep(2 + number * span / BUYERS)
            user = fake.user(FIRST_BUYER + number, first_name="Buyer")
            try:
                await journey(user, yookassa, visit, records[number])
            except (TimeoutError, AssertionError) as exc:
                if not any(r.outcome.startswith("failed") for r in records):
                    # What the first one waited for (a late confirmation? a missing button?).
                    log(f"outbox {kind}: buyer {number} failed: {str(exc)[:300]}")
                records[number].outcome = f"failed: {type(exc).__name__}"

        buyers = asyncio.gather(*(buyer(n) for n in range(BUYERS)))
        while delivered() < kill_at:
            await asyncio.sleep(0.2)
            if time.monotonic() - began > WAIT_LIMIT:
                raise RuntimeError(f"outbox {kind}: the broadcast stalled at {delivered()}")
        await buyers
        killed = time.monotonic()
        await service.kill()
        result.sent_before_kill = delivered()
        before_kill = sends(fake, began)
        in_lane = [m for m, name, p in before_kill if _is_broadcast(name, p)]
        result.rate = _steady_rate(in_lane)
        result.overall = _steady_rate([m for m, _, _ in before_kill if m <= max(in_lane)])
        log(f"outbox {kind}: killed with {result.sent_before_kill} of {RECIPIENTS} delivered")
        result.restart_seconds = await service.start()
        # Until every broadcast row is sent or given up: a row whose send had started at the
        # kill is given up once its lease runs out (it may have reached its chat), not resent.
        counter = create_engine(url)  # one engine for every look, not one per look
        try:
            deadline = killed + WAIT_LIMIT
            while await _broadcast_rows(counter, UNSENT) and time.monotonic() < deadline:  # noqa: ASYNC110 - the database has no event to wait on
                await asyncio.sleep(0.5)
            # Give the lane a last few seconds to show any doubles it would send.
            await asyncio.sleep(5)
            result.given_up_in_flight = await _broadcast_rows(counter, ("failed",), IN_FLIGHT_ERROR)
        finally:
            await counter.dispose()
        result.seconds = time.perf_counter() - started
        await service.stop()
        calls = sends(fake, began)
        stalls.stop()
        result.busiest, at = busiest_window([m for m, _, _ in calls])
        window = [(name, params) for m, name, params in calls if at <= m < at + 1.0]
        bulk = sum(1 for name, params in window if _is_broadcast(name, params))
        log(
            f"outbox {kind}: busiest second {result.busiest} ({bulk} broadcast, "
            f"{len(window) - bulk} answers, confirmations and edits) at +{at - began:.1f} s; this "
            f"process (the fake Telegram) then: {stalls.near(at)}; its full collections "
            f"{len(stalls.collections)}, longest "
            f"{max((sec for _, sec in stalls.collections), default=0) * 1000:.0f} ms"
        )
        result.refused = len(fake.refusals)
        log(f"outbox {kind}: refusals {Counter(code for code, _ in fake.refusals.values())}")
        result.per_chat = Counter(
            sum(1 for m in fake.chat(i).bot_messages if m.text == TEXT) for i in ids
        )
        result.confirmations = [r.confirmation for r in records if r.confirmation is not None]
        result.buyers = Counter(r.outcome for r in records)
        if any(r.outcome.startswith("failed") for r in records):
            kept = service.keep_log(f"outbox-{kind}")
            log(f"outbox {kind}: a buyer failed; service log kept at {kept}")
    return result


async def _broadcast_rows(
    engine: AsyncEngine, statuses: tuple[str, ...], error: str | None = None
) -> int:
    """How many broadcast rows of the outbox have one of `statuses` (and `error`)."""
    statement = select(func.count()).where(
        OutboxMessage.priority == PRIORITY_BROADCAST, OutboxMessage.status.in_(statuses)
    )
    if error is not None:
        statement = statement.where(OutboxMessage.last_error == error)
    async with engine.connect() as connection:
        return int((await connection.execute(statement)).scalar_one())


def _is_broadcast(name: str, params: dict[str, Any]) -> bool:
    return name == "sendMessage" and params.get("text") == TEXT


def _steady_rate(moments: list[float]) -> float:
    """Messages a second between the 5th and the last message (the lane's steady pace)."""
    if len(moments) < 10:  # noqa: PLR2004
        return 0.0
    ordered = sorted(moments)[5:]
    return (len(ordered) - 1) / (ordered[-1] - ordered[0])


@dataclass
class Crash:
    """The figures of payments committed by an instance that died before sending."""

    kind: str
    paid: int = 0
    told_before_kill: int = 0
    per_chat: Counter[int] = field(default_factory=Counter)
    after_restart: list[float] = field(default_factory=list)


async def crash(kind: str, tmp: Path) -> Crash:
    """Payments taken by an instance without a lane, kill -9, a normal instance confirms them."""
    folder = tmp / f"crash-{kind}"
    folder.mkdir()
    result = Crash(kind)
    async with (
        database(kind, folder, "crash") as url,
        FakeTelegramAPI(validate_html=False, callback_ttl=120) as fake,
        FakeYooKassa(shop_id=SHOP, secret_key=SECRET) as yookassa,
    ):
        env = service_env(url, fake, yookassa, kind)
        mute = ServiceProcess({**env, "OUTBOX_SENDER": "false"}, folder)
        await mute.start()
        yookassa.notification_url = f"{mute.base_url}/api/v2/payments/webhook/yookassa"
        visit = datetime.now(ZoneInfo("Europe/Moscow")).date() + timedelta(days=1)
        users = [fake.user(FIRST_BUYER + n, first_name="Crash") for n in range(CRASH_PAYMENTS)]
        records = [Customer() for _ in users]

        try:
            await asyncio.gather(
                *(
                    journey(user, yookassa, visit, record, confirmed=False)
                    for user, record in zip(users, records, strict=True)
                )
            )
        except (TimeoutError, AssertionError):
            kept = mute.keep_log(f"outbox-crash-{kind}")
            log(f"outbox {kind}: a customer of the crash part failed; service log kept at {kept}")
            raise
        await yookassa.wait_notifications(30)
        result.paid = sum(
            1
            for n in yookassa.notifications
            if n.event == "payment.succeeded" and n.http_status == 200  # noqa: PLR2004
        )
        result.told_before_kill = sum(_told(fake, u.user_id) for u in users)
        await mute.kill()
        normal = ServiceProcess(env, folder, port=mute.port)
        began = time.perf_counter()
        await normal.start()
        for user in users:
            try:
                await user.wait_for(lambda m: PAID_TEXT in (m.text or ""), timeout=60)
                result.after_restart.append(time.perf_counter() - began)
            except AssertionError:
                pass
        await asyncio.sleep(3)  # any double would follow within the lane's next rounds
        await normal.stop()
        result.per_chat = Counter(_told(fake, u.user_id) for u in users)
    return result


def _told(fake: FakeTelegramAPI, chat: int) -> int:
    return sum(1 for m in fake.chat(chat).bot_messages if PAID_TEXT in (m.text or ""))


def _verdict(once: int, missing: int, doubled: int, given_up: int) -> str:
    """Each message once, or given up with a logged reason: a row whose send had started at
    the kill may or may not have reached its chat, and is never sent again."""
    if once == RECIPIENTS:
        return "exactly once"
    if doubled == 0 and missing <= given_up:
        return "once, or given up in flight (logged)"
    return "NOT ONCE EACH"


def rows_of(result: Broadcast, crashed: Crash) -> list[Row]:
    """The table rows of one database."""
    name = "SQLite" if result.kind == "sqlite" else "PostgreSQL"
    once = result.per_chat.get(1, 0)
    missing, doubled = (
        result.per_chat.get(0, 0),
        sum(n for times, n in result.per_chat.items() if times > 1),
    )
    log(
        f"outbox {name}: per chat {dict(result.per_chat)}; buyers {dict(result.buyers)}; "
        f"refusals {result.refused}; whole run {result.seconds:.0f} s"
    )
    crash_once = crashed.per_chat == Counter({1: CRASH_PAYMENTS})
    return [
        Row(
            f"outbox {name}: broadcast to {RECIPIENTS:,}, steady rate of the broadcast / of all "
            "messages / busiest second",
            f"{result.rate:.1f}/s / {result.overall:.1f}/s / {result.busiest}",
            f"budget {BUDGET}/s",
            "goal 28–30/s, never > 30",
        ),
        Row(
            f"outbox {name}: payment → confirmation during the broadcast p50 / p99",
            f"{pct(result.confirmations, 0.5):.0f} / {pct(result.confirmations, 0.99):.0f} ms",
            f"{len(result.confirmations)} of {BUYERS} buyers confirmed",
        ),
        Row(
            f"outbox {name}: kill -9 at {result.sent_before_kill:,}, restart "
            f"({result.restart_seconds:.1f} s); chats with 1 / 0 / >1 copies",
            f"{once:,} / {missing} / {doubled}",
            f"{RECIPIENTS:,} recipients; {result.given_up_in_flight} given up in flight",
            _verdict(once, missing, doubled, result.given_up_in_flight),
        ),
        Row(
            f"outbox {name}: {CRASH_PAYMENTS} payments committed, instance killed before "
            "sending; confirmed after restart",
            f"{sum(crashed.per_chat[k] for k in crashed.per_chat if k)} of {crashed.paid} paid",
            f"told before kill {crashed.told_before_kill}; "
            f"last after {max(crashed.after_restart, default=0):.1f} s",
            "once each" if crash_once else f"NOT ONCE EACH {dict(crashed.per_chat)}",
        ),
    ]


async def outbox_rows(tmp: Path) -> list[Row]:
    """The outbox on SQLite and, when the services run gives one, PostgreSQL."""
    rows: list[Row] = []
    for kind in kinds():
        crashed = await crash(kind, tmp)
        rows += rows_of(await broadcast(kind, tmp), crashed)
    return rows
