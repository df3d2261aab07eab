"""make bench: how fast the shop is, each figure beside a reference measured in the same run.

Run with `make bench` (it provides PostgreSQL through scripts/with-services.sh). Everything talks
to local servers on loopback: the fake Telegram Bot API and the fake YooKassa from tests/fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiogram import Dispatcher, Router
from aiogram.types import Message
from fastapi import FastAPI
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.factory import create_bot  # noqa: E402
from db.engine import create_engine, create_sessionmaker  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Payment, User  # noqa: E402
from db.repositories.inventory import hold_seats  # noqa: E402
from main import Service, build, settle_heap  # noqa: E402
from settings import Settings  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402
from tests.fakes.yookassa_api import FakeYooKassa  # noqa: E402

BOT_UPDATES = 2000
NOTIFICATIONS = 400
NOTIFY_CONCURRENCY = 16
HOLD_BUYERS = 50
HOLDS_EACH = 20
SWEEP_ROWS = 100_000
FSM_USERS = 10_000
ROUNDS = 7
HOOK_ROUNDS = 3
JSON_HEADERS = {"Content-Type": "application/json"}
CPUINFO = Path("/proc/cpuinfo").read_text("utf-8").splitlines()
SHOP, SECRET = "1", "bench-secret"  # noqa: S105 - the local fake's credentials


@dataclass
class Row:
    """One line of the result table."""

    name: str
    value: str
    reference: str
    ratio: str = ""


def rss_mb() -> float:
    """Return this process's resident memory in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def settings_for(tmp: Path, **overrides: Any) -> Settings:
    """Settings of a benchmark service on a fresh SQLite file."""
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "HTTP_PORT": 0,
        "LOG_LEVEL": "WARNING",
        "YOOKASSA_TRUSTED_NETWORKS": "127.0.0.0/8",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def paying_settings(tmp: Path, yookassa: FakeYooKassa) -> Settings:
    """Settings of a benchmark service that takes payments through the local YooKassa."""
    return settings_for(
        tmp, YOOKASSA_SHOP_ID=SHOP, YOOKASSA_SECRET_KEY=SECRET, YOOKASSA_API_URL=yookassa.api_url
    )


async def wait_until(check: Callable[[], bool], seconds: float) -> None:
    """Wait until check() holds (poll every 5 ms)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish in time")
        await asyncio.sleep(0.005)


# ---- 1. bot updates per second ---------------------------------------------------------


async def feed(fake: FakeTelegramAPI, count: int, first_user: int) -> float:
    """Queue `count` /my messages from distinct users; return seconds until all are answered."""
    before = len(fake.calls("sendMessage"))
    users = [fake.user(first_user + i, first_name="Bench") for i in range(count)]
    started = time.perf_counter()
    for user in users:
        await user.send("/my")
    await wait_until(lambda: len(fake.calls("sendMessage")) - before >= count, 120)
    return time.perf_counter() - started


async def whole_stack_rate(tmp: Path) -> float:
    """Updates per second through the composed service."""
    async with FakeTelegramAPI(validate_html=False) as fake:
        folder = Path(tempfile.mkdtemp(dir=tmp))
        settings = settings_for(folder, BOT_TOKEN=fake.token, TELEGRAM_API_BASE=fake.base_url)
        service = await build(settings)
        await service.start()
        settle_heap()  # as main.run() does after start
        try:
            await feed(fake, 50, 1)  # warm up
            return BOT_UPDATES / await feed(fake, BOT_UPDATES, 100_000)
        finally:
            await service.stop()


async def echo_rate() -> float:
    """Updates per second through a bare aiogram echo bot on the same fake."""
    async with FakeTelegramAPI(validate_html=False) as fake:
        bot = create_bot(fake.token, fake.base_url)
        router = Router()

        @router.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "")

        dispatcher = Dispatcher()
        dispatcher.include_router(router)
        task = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        settle_heap()  # the same treatment as the service, so the ratio compares handlers
        try:
            await feed(fake, 50, 1)
            return BOT_UPDATES / await feed(fake, BOT_UPDATES, 100_000)
        finally:
            await dispatcher.stop_polling()
            await task
            await bot.session.close()


async def bench_bot(tmp: Path) -> Row:
    """The whole stack (user upsert, a read, sendMessage) against a bare echo bot.

    Each round measures both, one right after the other, and the row gives the medians: the
    ratio is the median of the rounds' own ratios, so a burst of other load on the machine
    moves one round, not the result.
    """
    rounds = []
    for _ in range(ROUNDS):
        whole = await whole_stack_rate(tmp)
        bare = await echo_rate()
        rounds.append((whole, bare, whole / bare))
    sys.stderr.write("bench: bot ratio per round " + " ".join(f"{r[2]:.0%}" for r in rounds) + "\n")
    whole, bare, ratio = (statistics.median(r[i] for r in rounds) for i in range(3))
    return Row(
        "bot updates/s, whole stack vs bare echo bot",
        f"{whole:,.0f}/s",
        f"{bare:,.0f}/s",
        f"{ratio:.0%} (goal ≥ 60%)",
    )


# ---- 2. webhook notifications per second ------------------------------------------------


async def load(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    """POST bodies with a fixed concurrency; return (seconds, latencies)."""
    queue = list(reversed(bodies))
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as c:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                began = time.perf_counter()
                answer = await c.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
                latencies.append(time.perf_counter() - began)
                if answer.status_code != 200:  # noqa: PLR2004
                    raise RuntimeError(f"webhook answered {answer.status_code}: {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


def pct(values: list[float], share: float) -> float:
    """Return a percentile in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


@contextlib.asynccontextmanager
async def bare_endpoint() -> AsyncIterator[str]:
    """Serve a FastAPI endpoint that only answers {"success": true}; yield its URL."""
    app = FastAPI()

    @app.post("/hook")
    async def hook() -> dict[str, bool]:
        return {"success": True}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve([sock]))
    await wait_until(lambda: server.started, 10)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def bench_webhook(tmp: Path) -> list[Row]:
    """Notifications through peer check, re-fetch and fulfilment, against a bare endpoint.

    Each round pays a fresh batch of payments, then sends their notifications to the service
    and the same bodies to the bare endpoint, back to back; the ratio is the median of the
    rounds' ratios, the latencies are over every request.
    """
    (tmp / "hook").mkdir()
    rounds: list[tuple[float, float, float]] = []
    latencies: list[float] = []
    bare_latencies: list[float] = []
    async with FakeYooKassa(shop_id=SHOP, secret_key=SECRET) as yookassa, bare_endpoint() as bare:
        service = await build(paying_settings(tmp / "hook", yookassa))
        await service.start()
        settle_heap()
        try:
            for number in range(HOOK_ROUNDS):
                bodies = await paid_notifications(service, yookassa, NOTIFICATIONS, number)
                seconds, taken = await load(
                    f"{service.base_url}/api/v2/payments/webhook/yookassa",
                    bodies,
                    NOTIFY_CONCURRENCY,
                )
                bare_seconds, bare_taken = await load(bare, bodies, NOTIFY_CONCURRENCY)
                latencies += taken
                bare_latencies += bare_taken
                whole, reference = len(bodies) / seconds, len(bodies) / bare_seconds
                rounds.append((whole, reference, whole / reference))
        finally:
            await service.stop()
    sys.stderr.write("bench: webhook ratio per round " + " ".join(f"{r[2]:.0%}" for r in rounds))
    sys.stderr.write("\n")
    whole, reference, ratio = (statistics.median(r[i] for r in rounds) for i in range(3))
    return [
        Row(
            "webhook notifications/s (verify, re-fetch, fulfil) vs bare FastAPI endpoint",
            f"{whole:,.0f}/s",
            f"{reference:,.0f}/s",
            f"{ratio:.0%} (goal ≥ 30%)",
        ),
        Row(
            "webhook latency p50 / p99",
            f"{pct(latencies, 0.5):.1f} / {pct(latencies, 0.99):.1f} ms",
            f"{pct(bare_latencies, 0.5):.1f} / {pct(bare_latencies, 0.99):.1f} ms",
        ),
    ]


async def paid_notifications(
    service: Service, yookassa: FakeYooKassa, count: int, batch: int = 0
) -> list[bytes]:
    """Create and pay `count` subscription payments (notifications lost); return their bodies."""
    first = 500_000 + batch * count
    async with service.sessionmaker.begin() as session:
        session.add_all(
            User(id=str(first + i), first_name="N", language="ru") for i in range(count)
        )
    yookassa.lose_notifications(count)
    bodies = []
    results = []
    for start in range(0, count, 25):
        results += await asyncio.gather(
            *(
                service.payments.checkout.start_subscription(
                    str(first + i), "monthly", return_url="https://t.me/x"
                )
                for i in range(start, min(count, start + 25))
            )
        )
    for result in results:
        await yookassa.pay(result.provider_id)
        bodies.append(
            f'{{"type":"notification","event":"payment.succeeded","object":'
            f'{{"id":"{result.provider_id}","status":"succeeded"}}}}'.encode()
        )
    return bodies


# ---- 3. seat holds per second -----------------------------------------------------------


async def bench_holds(url: str) -> float:
    """50 concurrent buyers each hold one seat 20 times on one slot; return holds per second."""
    engine = create_engine(url, pool_size=HOLD_BUYERS)
    await upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    visit = date(2031, 1, 1) + timedelta(days=int(time.time()) % 300)
    capacity = HOLD_BUYERS * HOLDS_EACH

    async def buyer() -> int:
        held = 0
        for _ in range(HOLDS_EACH):
            async with sessionmaker.begin() as session:
                held += await hold_seats(session, visit, "10:00", 1, default_capacity=capacity)
        return held

    started = time.perf_counter()
    total = sum(await asyncio.gather(*(buyer() for _ in range(HOLD_BUYERS))))
    seconds = time.perf_counter() - started
    await engine.dispose()
    if total != capacity:
        raise RuntimeError(f"{total} holds of {capacity}")
    return total / seconds


# ---- 4. the expiry sweep ----------------------------------------------------------------


async def bench_sweep(tmp: Path) -> float:
    """Expire 100 000 overdue pending payments on SQLite; return seconds."""
    (tmp / "sweep").mkdir()
    async with FakeYooKassa(shop_id=SHOP, secret_key=SECRET) as yookassa:
        service = await build(paying_settings(tmp / "sweep", yookassa))
        try:
            past = datetime.now(UTC) - timedelta(hours=1)
            async with service.sessionmaker.begin() as session:
                await session.execute(
                    insert(User),
                    [{"id": "9", "first_name": "S", "language": "ru", "created_at": past}],
                )
                rows = [
                    {
                        "id": f"ZT_{i:010d}",
                        "idempotence_key": f"ZT_{i:010d}",
                        "provider_id": f"{i:08x}-000f-5000-8000-000000000000",
                        "kind": "subscription",
                        "user_id": "9",
                        "plan_code": "monthly",
                        "amount": Decimal("299.00"),
                        "refunded_amount": Decimal("0.00"),
                        "status": "pending",
                        "is_test": False,
                        "description": "bench",
                        "source": "bench",
                        "extra": {},
                        "created_at": past,
                        "updated_at": past,
                        "expires_at": past,
                        "currency": "RUB",
                    }
                    for i in range(SWEEP_ROWS)
                ]
                for start in range(0, SWEEP_ROWS, 10_000):
                    await session.execute(insert(Payment), rows[start : start + 10_000])
            started = time.perf_counter()
            report = await service.payments.jobs.expire()
            seconds = time.perf_counter() - started
        finally:
            await service.stop()
    if report.changed != SWEEP_ROWS:
        raise RuntimeError(f"sweep changed {report.changed} of {SWEEP_ROWS}")
    return seconds


# ---- 5. memory with users in FSM state --------------------------------------------------


async def bench_memory(tmp: Path) -> tuple[float, float]:
    """RSS of a running service before and after 10 000 users enter the ticket journey."""
    (tmp / "mem").mkdir()
    async with FakeTelegramAPI() as fake:
        settings = settings_for(tmp / "mem", BOT_TOKEN=fake.token, TELEGRAM_API_BASE=fake.base_url)
        service = await build(settings)
        await service.start()
        try:
            gc.collect()
            before = rss_mb()
            if service.telegram is None:
                raise RuntimeError("the bot is not on")
            bot, dispatcher = service.telegram.bot, service.telegram.dispatcher
            for i in range(FSM_USERS):
                context = dispatcher.fsm.get_context(bot, 1_000_000 + i, 1_000_000 + i)
                await context.set_state("TicketFlow:quantities")
                await context.set_data(
                    {
                        "msg_id": 1000 + i,
                        "date": "2031-01-01",
                        "slot": "10:00",
                        "qty": {"adult": 2, "child": 1},
                    }
                )
            gc.collect()
            after = rss_mb()
        finally:
            await service.stop()
    return before, after


async def holds_rows(tmp: Path) -> list[Row]:
    """Seat holds on SQLite and, when the services run gives one, PostgreSQL."""
    sqlite_holds = await bench_holds(f"sqlite+aiosqlite:///{tmp / 'holds.db'}")
    pg_url = os.environ.get("TEST_DATABASE_URL")
    pg_holds = await bench_holds(pg_url) if pg_url else None
    return [
        Row(
            f"seat holds/s, {HOLD_BUYERS} concurrent buyers on one slot",
            f"SQLite {sqlite_holds:,.0f}/s",
            f"PostgreSQL {pg_holds:,.0f}/s" if pg_holds else "PostgreSQL: not run",
        )
    ]


async def sweep_rows(tmp: Path) -> list[Row]:
    """The expiry sweep."""
    seconds = await bench_sweep(tmp)
    return [
        Row(
            f"expiry sweep of {SWEEP_ROWS:,} pending payments (SQLite)",
            f"{seconds:.2f} s",
            "goal < 5 s",
        )
    ]


async def memory_rows(tmp: Path) -> list[Row]:
    """Resident memory idle and with users in FSM state."""
    before, after = await bench_memory(tmp)
    return [
        Row(
            f"resident memory, service idle → {FSM_USERS:,} users in FSM state",
            f"{after:,.0f} MiB",
            f"idle {before:,.0f} MiB",
            f"+{(after - before) * 1024 / FSM_USERS:.1f} KiB/user",
        )
    ]


async def bot_rows(tmp: Path) -> list[Row]:
    """The bot throughput row."""
    return [await bench_bot(tmp)]


PARTS: dict[str, Callable[[Path], Awaitable[list[Row]]]] = {
    "bot": bot_rows,
    "webhook": bench_webhook,
    "holds": holds_rows,
    "sweep": sweep_rows,
    "memory": memory_rows,
}


async def part_in_fresh_process(name: str) -> list[Row]:
    """Run one part in a new interpreter, so no part inherits another's threads or garbage."""
    sys.stderr.write(f"bench: {name}…\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--part", name, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench part {name} failed")
    return [Row(**row) for row in json.loads(output)]


async def part_main(name: str) -> None:
    """Print one part's rows as JSON (the --part mode)."""
    with tempfile.TemporaryDirectory() as folder:
        rows = await PARTS[name](Path(folder))
    sys.stdout.write(json.dumps([dataclasses.asdict(row) for row in rows]))


async def main() -> None:
    """Run every part, each in its own process, and print the table."""
    rows: list[Row] = []
    for name in PARTS:
        rows += await part_in_fresh_process(name)
    width = max(len(r.name) for r in rows)
    lines = [
        f"{'measure':<{width}} | {'value':>18} | {'reference':>22} | ratio",
        "-" * (width + 70),
    ]
    lines += [f"{r.name:<{width}} | {r.value:>18} | {r.reference:>22} | {r.ratio}" for r in rows]
    cpu = next(
        (line.split(":", 1)[1].strip() for line in CPUINFO if line.startswith("model name")),
        "unknown CPU",
    )
    lines.append(f"machine: {os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(part_main(sys.argv[2]) if "--part" in sys.argv else main())
