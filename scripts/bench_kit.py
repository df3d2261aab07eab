"""Shared pieces of make bench: the result row, the constants, service settings, waiting."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from settings import Settings  # noqa: E402

BOT_UPDATES = 2000
NOTIFICATIONS = 400
NOTIFY_CONCURRENCY = 16
HOLD_BUYERS = 50
HOLDS_EACH = 20
SWEEP_ROWS = 100_000
FSM_USERS = 10_000
ROUNDS = 7
HOOK_ROUNDS = 3
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


class Provider(Protocol):
    """A local YooKassa: the fake in this process or in its own (bench_provider.py)."""

    @property
    def api_url(self) -> str:
        """Its API's root URL."""
        ...


def paying_settings(tmp: Path, yookassa: Provider) -> Settings:
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


if os.environ.get("BENCH_QUICK", "") not in ("", "0"):
    # A smoke run (BENCH_QUICK=1): every part shrunk, the figures only show that it works.
    BOT_UPDATES, NOTIFICATIONS, ROUNDS, HOOK_ROUNDS = 300, 100, 2, 1
    SWEEP_ROWS, FSM_USERS = 10_000, 1_000
