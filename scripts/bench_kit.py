"""Shared pieces of make bench: the result row, the constants, service settings, waiting.

`OwnStalls`: this process's own stalls while it hosts the fakes, with its full collections held
back meanwhile (the rush and outbox parts).
"""

from __future__ import annotations

import asyncio
import gc
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
SWEEP_REPEATS = 3  # each on a fresh database: the median and the spread
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


def paying_settings(tmp: Path, yookassa: Provider, **overrides: Any) -> Settings:
    """Settings of a benchmark service that takes payments through the local YooKassa."""
    return settings_for(
        tmp,
        YOOKASSA_SHOP_ID=SHOP,
        YOOKASSA_SECRET_KEY=SECRET,
        YOOKASSA_API_URL=yookassa.api_url,
        **overrides,
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


class OwnStalls:
    """This process's own stalls while it hosts the fakes, and no full collections meanwhile.

    The fakes stamp each call as they handle it, so a stall here (a full garbage collection of
    the fake's 20 000 chats, say) bunches the stamps of calls that arrived evenly, or adds
    itself to the service's answers: the log tells such a moment from one the service made.
    The fakes stand for Telegram's and YooKassa's servers, which do not pause for this
    process's collector: from start() to stop() it makes no full collections (young ones
    still run), over a heap frozen at start().
    """

    def __init__(self) -> None:
        """Prepare; start() and stop() around what is watched."""
        self.lags: list[tuple[float, float]] = []  # (monotonic, seconds late) over 50 ms
        self.collections: list[tuple[float, float]] = []  # full collections: (start, seconds)
        self._began = 0.0
        self._thresholds = gc.get_threshold()
        self._task: asyncio.Task[None] | None = None

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.monotonic()
        elif info["generation"] == 2:  # noqa: PLR2004 - the oldest generation: a full pass
            self.collections.append((self._began, time.monotonic() - self._began))

    async def _probe(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            late = time.monotonic() - before - 0.01
            if late > 0.05:  # noqa: PLR2004
                self.lags.append((before, late))

    def start(self) -> None:
        """Start watching; hold full collections back."""
        gc.freeze()
        self._thresholds = gc.get_threshold()
        gc.set_threshold(self._thresholds[0], self._thresholds[1], 1_000_000)
        gc.callbacks.append(self._collected)
        self._task = asyncio.create_task(self._probe())

    def stop(self) -> None:
        """Stop watching; let full collections run again."""
        gc.callbacks.remove(self._collected)
        if self._task is not None:
            self._task.cancel()
        gc.set_threshold(*self._thresholds)
        gc.unfreeze()

    def summary(self) -> str:
        """How often and how long this process stalled, and its full collections."""
        worst = max((late for _, late in self.lags), default=0.0)
        longest = max((sec for _, sec in self.collections), default=0.0)
        return (
            f"late over 50 ms {len(self.lags)} times, worst {worst * 1000:.0f} ms; full "
            f"collections {len(self.collections)}, longest {longest * 1000:.0f} ms"
        )

    def near(self, moment: float) -> str:
        """What stalled this process in the two seconds before and the second after `moment`."""
        lags = [f"{late * 1000:.0f} ms" for at, late in self.lags if -2 <= at - moment <= 1]
        full = [f"{sec * 1000:.0f} ms" for at, sec in self.collections if -2 <= at - moment <= 1]
        return f"loop late {lags or 'never'}; full collections {full or 'none'}"
