"""make bench's start-up part: time to first answer and idle memory, beside a bare aiogram bot.

Each run starts a fresh interpreter: the service as `python main.py` (SQLite, the bot polling the
local fake Telegram), then a bare aiogram echo bot (BARE_BOT, below) against the same fake. The
clock starts just before the process is spawned and stops at the service's first `200` from
`/health` (polled every 5 ms) and at the bot's first `getUpdates` seen by the fake; the CPU
seconds each process had used by then are read from /proc as well (they hardly move with other
work on the machine, which stretches the wall-clock figures). After IDLE_SECONDS with nothing to
do, the process's resident memory is read from /proc.

The service's database is migrated by a first, unmeasured start, so the runs measure a restart;
a first start on an empty database also runs the migrations (one row of its own).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_kit import Row, wait_until  # noqa: E402

from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402

START_ROUNDS = int(os.environ.get("BENCH_START_ROUNDS", "5"))
IDLE_SECONDS = 3.0
START_GOAL_SECONDS = 1.0
RSS_GOAL_MIB = 50.0

# The reference, run with `python -c`: the smallest aiogram bot that answers, polling the fake.
# Nothing else is imported into its interpreter (argv: the fake's base URL and the token).
BARE_BOT = """
import asyncio, sys
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

router = Router()

@router.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "")

async def run() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sys.argv[1]))
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await dispatcher.start_polling(Bot(sys.argv[2], session=session))

asyncio.run(run())
"""


def rss_of(pid: int) -> float:
    """Return a process's resident memory in MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_of(pid: int) -> float:
    """Return the CPU seconds (user and system) a process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a loopback port that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then wait (SIGKILL after 15 s)."""
    if process.returncode is None:
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 15)
    except TimeoutError:
        process.kill()
        await process.wait()


def service_env(fake: FakeTelegramAPI, folder: Path, port: int) -> dict[str, str]:
    """The environment of a service process: defaults but for the bot, database and port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "PYTEST"))}
    # A restart finds the bytecode its first start wrote, as in any install that can write it
    # (pip's own compiles the site-packages): with PYTHONDONTWRITEBYTECODE=1 from the caller's
    # environment, every measured start compiled our ~180 modules from source again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE=fake.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'start.db'}",
        HTTP_HOST="127.0.0.1",
        HTTP_PORT=str(port),
        LOG_LEVEL="WARNING",
    )
    return env


async def health_status(port: int) -> int | None:
    """GET /health over a raw connection; None while nothing listens.

    Cheaper than an HTTP client: polled every 5 ms on a 2-core machine, the prober must not take
    the CPU the process it waits for needs (a refused connect is one system call).
    """
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status_line = await asyncio.wait_for(reader.readline(), 30)
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
    parts = status_line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


async def service_once(folder: Path) -> tuple[float, float, float]:
    """Start the service once; return (seconds to the first /health 200, CPU seconds by then,
    idle RSS MiB)."""
    async with FakeTelegramAPI(validate_html=False) as fake:
        port = free_port()
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "main.py"),
            cwd=folder,  # no .env of the checkout
            env=service_env(fake, folder, port),
            stdin=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            while True:
                if process.returncode is not None:
                    raise RuntimeError("the service exited during start-up")
                if await health_status(port) == 200:
                    cpu = cpu_of(process.pid)
                    break
                if time.monotonic() - started > 60:
                    raise TimeoutError("no /health answer within 60 s")
                await asyncio.sleep(0.005)
            seconds = time.monotonic() - started
            await wait_until(lambda: bool(fake.calls("getUpdates")), 30)
            await asyncio.sleep(IDLE_SECONDS)
            return seconds, cpu, rss_of(process.pid)
        finally:
            await _stop(process)


async def bare_once() -> tuple[float, float, float]:
    """Start the bare echo bot once; return (seconds to its first getUpdates, CPU seconds by
    then, idle RSS MiB)."""
    async with FakeTelegramAPI(validate_html=False) as fake:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            BARE_BOT,
            fake.base_url,
            fake.token,
            stdin=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await wait_until(lambda: bool(fake.calls("getUpdates")), 60)
            cpu = cpu_of(process.pid)  # idle in the long poll from here on
            index = next(i for i, (m, _) in enumerate(fake.requests) if m == "getUpdates")
            seconds = fake.request_times[index] - started
            await asyncio.sleep(IDLE_SECONDS)
            return seconds, cpu, rss_of(process.pid)
        finally:
            await _stop(process)


def spread(values: list[float], fmt: str) -> str:
    """Median with the range of the runs, e.g. "1.92 s (1.80–2.31)"."""
    middle = statistics.median(values)
    return f"{fmt.format(middle)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


async def start_rows(tmp: Path) -> list[Row]:
    """Start-up and idle memory of the service vs a bare aiogram echo bot, several fresh runs."""
    folder = Path(tempfile.mkdtemp(dir=tmp))
    await service_once(folder)  # migrate the database: the runs below measure a restart
    runs: list[tuple[float, float, float, float, float, float]] = []
    for _ in range(START_ROUNDS):
        service_s, service_cpu, service_mib = await service_once(folder)
        bare_s, bare_cpu, bare_mib = await bare_once()
        runs.append((service_s, bare_s, service_mib, bare_mib, service_cpu, bare_cpu))
    late = [r[0] - r[1] for r in runs]
    more = [r[2] - r[3] for r in runs]
    busier = [r[4] - r[5] for r in runs]
    sys.stderr.write(
        "bench: start-up service/bare per run "
        + " ".join(
            f"{r[0]:.2f}/{r[1]:.2f}s cpu {r[4]:.2f}/{r[5]:.2f}s {r[2]:.1f}/{r[3]:.1f}MiB"
            for r in runs
        )
        + "\n"
    )
    return [
        Row(
            "start-up: process start → first /health (bare bot: first getUpdates)",
            spread([r[0] for r in runs], "{:.2f} s"),
            spread([r[1] for r in runs], "{:.2f} s"),
            f"+{spread(late, '{:.2f}')} s (goal ≤ {START_GOAL_SECONDS:.0f} s)",
        ),
        Row(
            "start-up: CPU seconds used by then",
            spread([r[4] for r in runs], "{:.2f} s"),
            spread([r[5] for r in runs], "{:.2f} s"),
            f"+{spread(busier, '{:.2f}')} s",
        ),
        Row(
            f"idle resident memory {IDLE_SECONDS:.0f} s after start",
            spread([r[2] for r in runs], "{:.1f} MiB"),
            spread([r[3] for r in runs], "{:.1f} MiB"),
            f"+{spread(more, '{:.1f}')} MiB (goal ≤ {RSS_GOAL_MIB:.0f} MiB)",
        ),
    ]


if __name__ == "__main__":  # a quick look without the rest of make bench
    with tempfile.TemporaryDirectory() as tmp_folder:
        for row in asyncio.run(start_rows(Path(tmp_folder))):
            print(f"{row.name} | {row.value} | {row.reference} | {row.ratio}")
