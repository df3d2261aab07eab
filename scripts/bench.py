"""make bench: how fast the shop is, each figure beside a reference measured in the same run.

Run with `make bench` (it provides PostgreSQL through scripts/with-services.sh). Everything talks
to local servers on loopback: the fake Telegram Bot API and the fake YooKassa from tests/fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import uvicorn
from aiogram import Dispatcher, Router
from aiogram.types import Message
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_kit import (  # noqa: E402
    BOT_UPDATES,
    CPUINFO,
    HOOK_ROUNDS,
    NOTIFICATIONS,
    NOTIFY_CONCURRENCY,
    ROUNDS,
    SECRET,
    SHOP,
    Row,
    paying_settings,
    settings_for,
    wait_until,
)
from bench_outbox import outbox_rows  # noqa: E402
from bench_provider import RemoteYooKassa  # noqa: E402
from bench_reports import report_rows  # noqa: E402
from bench_rush import rush_rows  # noqa: E402
from bench_start import start_rows  # noqa: E402
from bench_storage import holds_rows, memory_rows, sweep_rows  # noqa: E402

from bot.factory import create_bot  # noqa: E402
from db.models import User  # noqa: E402
from main import Service, build, settle_heap  # noqa: E402
from payments.types import ProviderPayment  # noqa: E402
from payments.yookassa.webhook import WEBHOOK_PATH  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402

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
    """POST bodies with a fixed concurrency from another process; return (seconds, latencies).

    The client (scripts/bench_load.py) runs in a process of its own so that its work does not
    queue on the event loop of the server it measures; latencies come back in body order.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("bench_load.py")),
        url,
        str(concurrency),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate(json.dumps([b.decode() for b in bodies]).encode())
    if process.returncode != 0:
        raise RuntimeError(f"the load generator failed against {url}")
    result = json.loads(output)
    return float(result["seconds"]), [float(x) for x in result["latencies"]]


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

    # As payments/api/server.bind_socket: IPPROTO_TCP so asyncio sets TCP_NODELAY on each
    # connection, or the reference itself waits for delayed ACKs on kept-alive connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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


def timed_refetch(service: Service) -> dict[str, float]:
    """Record how long each re-fetch from YooKassa takes the service, by YooKassa's payment id.

    Wraps the gateway object of this benchmark's service only: from the call to its answer,
    thread hand-over and connection included (the provider's own part is timed by the fake).
    """
    gateway = service.payments.gateway
    fetch = gateway.get_payment
    taken: dict[str, float] = {}

    async def get_payment(provider_id: str) -> ProviderPayment:
        began = time.perf_counter()
        try:
            return await fetch(provider_id)
        finally:
            taken[provider_id] = time.perf_counter() - began

    gateway.get_payment = get_payment  # type: ignore[method-assign]
    return taken


def provider_id(body: bytes) -> str:
    """Return the payment id a notification body names."""
    return str(json.loads(body)["object"]["id"])


@dataclasses.dataclass
class HookRun:
    """What the webhook part collects over its rounds."""

    rounds: list[tuple[float, float, float]] = dataclasses.field(default_factory=list)
    latencies: list[float] = dataclasses.field(default_factory=list)
    own: list[float] = dataclasses.field(default_factory=list)
    provider: list[float] = dataclasses.field(default_factory=list)
    refetch: list[float] = dataclasses.field(default_factory=list)
    bare: list[float] = dataclasses.field(default_factory=list)
    cpu: list[float] = dataclasses.field(default_factory=list)


async def bench_webhook(tmp: Path) -> list[Row]:
    """Notifications through peer check, re-fetch and fulfilment, against a bare endpoint.

    Each round pays a fresh batch of payments, then sends their notifications to the service
    and the same bodies to the bare endpoint, back to back, 16 at a time. The client and the
    local YooKassa run in processes of their own, as they would in life; the bare endpoint
    runs in this process, like the service. The ratio is the median of the rounds' ratios,
    the latencies are over every request. A notification's own latency leaves out the time
    the fake YooKassa itself spent answering its re-fetch (reported beside it).
    """
    (tmp / "hook").mkdir()
    run = HookRun()
    async with RemoteYooKassa(SHOP, SECRET) as yookassa, bare_endpoint() as bare:
        service = await build(paying_settings(tmp / "hook", yookassa))
        await service.start()
        refetch = timed_refetch(service)
        settle_heap()
        try:
            for number in range(HOOK_ROUNDS):
                bodies = await paid_notifications(service, yookassa, NOTIFICATIONS, number)
                url = f"{service.base_url}{WEBHOOK_PATH}"
                cpu_before = time.process_time()
                seconds, taken = await load(url, bodies, NOTIFY_CONCURRENCY)
                run.cpu.append((time.process_time() - cpu_before) / len(bodies))
                bare_seconds, bare_taken = await load(bare, bodies, NOTIFY_CONCURRENCY)
                provider = await yookassa.fetch_seconds()
                run.latencies += taken
                run.bare += bare_taken
                for body, latency in zip(bodies, taken, strict=True):
                    payment = provider_id(body)
                    run.provider.append(provider[payment])
                    run.refetch.append(refetch[payment])
                    run.own.append(latency - provider[payment])
                whole, reference = len(bodies) / seconds, len(bodies) / bare_seconds
                run.rounds.append((whole, reference, whole / reference))
        finally:
            await service.stop()
    return webhook_rows(run)


def webhook_rows(run: HookRun) -> list[Row]:
    """The webhook part's rows; the per-round ratios (the spread) go to stderr."""
    ratios = [r[2] for r in run.rounds]
    sys.stderr.write("bench: webhook ratio per round " + " ".join(f"{r:.0%}" for r in ratios))
    sys.stderr.write("\n")
    whole, reference, ratio = (statistics.median(r[i] for r in run.rounds) for i in range(3))
    return [
        Row(
            "webhook notifications/s (verify, re-fetch, fulfil) vs bare FastAPI endpoint",
            f"{whole:,.0f}/s",
            f"{reference:,.0f}/s",
            f"{ratio:.0%} ({min(ratios):.0%}–{max(ratios):.0%}; goal ≥ 50%)",
        ),
        Row(
            "webhook latency p50 / p99, whole, vs bare endpoint",
            f"{pct(run.latencies, 0.5):.1f} / {pct(run.latencies, 0.99):.1f} ms",
            f"{pct(run.bare, 0.5):.1f} / {pct(run.bare, 0.99):.1f} ms",
        ),
        Row(
            "webhook latency p50 / p99 without the provider's time vs the provider's",
            f"{pct(run.own, 0.5):.1f} / {pct(run.own, 0.99):.1f} ms",
            f"{pct(run.provider, 0.5):.2f} / {pct(run.provider, 0.99):.2f} ms",
            f"goal p99 < 50 ms at {NOTIFY_CONCURRENCY} at a time",
        ),
        Row(
            "webhook re-fetch as the service waits for it, p50 / p99",
            f"{pct(run.refetch, 0.5):.1f} / {pct(run.refetch, 0.99):.1f} ms",
            "",
        ),
        Row(
            "webhook CPU per notification in the service's process (median of rounds)",
            f"{statistics.median(run.cpu) * 1000:.2f} ms",
            f"{min(run.cpu) * 1000:.2f}–{max(run.cpu) * 1000:.2f} ms",
            f"p99 < 50 ms at {NOTIFY_CONCURRENCY} needs about 3 ms",
        ),
    ]


async def paid_notifications(
    service: Service, yookassa: RemoteYooKassa, count: int, batch: int = 0
) -> list[bytes]:
    """Create and pay `count` subscription payments (notifications lost); return their bodies."""
    first = 500_000 + batch * count
    async with service.sessionmaker.begin() as session:
        session.add_all(
            User(id=str(first + i), first_name="N", language="ru") for i in range(count)
        )
    await yookassa.lose_notifications(count)
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
    paid = [str(result.provider_id) for result in results]
    await yookassa.pay(paid)
    return [
        f'{{"type":"notification","event":"payment.succeeded","object":'
        f'{{"id":"{payment}","status":"succeeded"}}}}'.encode()
        for payment in paid
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
    "start": start_rows,
    "rush": rush_rows,
    "reports": report_rows,
    "outbox": outbox_rows,
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
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    lines.append(
        f"load average at the end {load} (1/5/15 min): other work on the machine moves every "
        "figure; compare a figure with its reference from the same run"
        + ("; BENCH_QUICK=1: smoke-run sizes" if os.environ.get("BENCH_QUICK") else "")
    )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(part_main(sys.argv[2]) if "--part" in sys.argv else main())
