"""make bench: how fast the shop is, each figure beside a reference measured in the same run.

Run with `make bench` (it provides PostgreSQL through scripts/with-services.sh). Everything talks
to local servers on loopback: the fake Telegram Bot API and the fake YooKassa from tests/fakes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiogram import Dispatcher, Router
from aiogram.types import Message

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_kit import (  # noqa: E402
    BOT_UPDATES,
    CPUINFO,
    ROUNDS,
    Row,
    settings_for,
    wait_until,
)
from bench_outbox import outbox_rows  # noqa: E402
from bench_reports import report_rows  # noqa: E402
from bench_rush import rush_rows  # noqa: E402
from bench_start import start_rows  # noqa: E402
from bench_storage import holds_rows, memory_rows, sweep_rows  # noqa: E402
from bench_webhook import bench_webhook  # noqa: E402

from bot.factory import create_bot  # noqa: E402
from main import build, settle_heap  # noqa: E402
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
