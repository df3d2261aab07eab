"""A loop-lag probe: how late a task sleeping 10 ms wakes up while something else runs.

Used by tests (a long read must leave the loop free) and by scripts/report_stall.py (and the
bench) to measure the admin reports' stall. It also samples the process's RSS, so a caller can
see whether memory grew while the work ran.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

TICK = 0.010


def rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class LoopProbe:
    """A task that sleeps 10 ms at a time and records how late each wake-up comes.

    `async with LoopProbe() as probe: ...` then `probe.worst` (seconds), `probe.p99`,
    `probe.stalled(start, end)` (whether the loop was held within that stretch), and
    `probe.peak_rss - probe.base_rss` (bytes the process grew by at most meanwhile).

    While it probes, the objects that exist at its start are frozen out of the garbage
    collector's sight, as the service's `settle_heap()` freezes what start-up made. A test
    process never settles its heap: hundreds of thousands of objects from the libraries and
    earlier tests, and a full collection that walked them all ran on the loop for 0.34-0.65 s
    in the middle of /stats on a loaded box (gc.callbacks; the report itself ran in its
    thread), a pause the service does not have. They are unfrozen when the probe stops.
    """

    def __init__(self, tick: float = TICK) -> None:
        """Wake every `tick` seconds."""
        self.tick = tick
        self.lags: list[float] = []
        self.woke: list[float] = []  # the loop's time of each wake-up, beside its lag
        self.base_rss = rss_bytes()
        self.peak_rss = self.base_rss
        self._task: asyncio.Task[None] | None = None
        self._asleep_since = 0.0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._asleep_since = loop.time()
            await asyncio.sleep(self.tick)
            self.lags.append(max(0.0, loop.time() - self._asleep_since - self.tick))
            self.woke.append(loop.time())
            self.peak_rss = max(self.peak_rss, rss_bytes())

    async def __aenter__(self) -> Self:
        """Start probing."""
        gc.freeze()
        self.base_rss = rss_bytes()
        self.peak_rss = self.base_rss
        self._asleep_since = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop probing."""
        assert self._task is not None  # noqa: S101 - entered
        # A wake-up still overdue counts too (the loop may have been held until just now).
        overdue = asyncio.get_running_loop().time() - self._asleep_since - self.tick
        if overdue > 0:
            self.lags.append(overdue)
            self.woke.append(asyncio.get_running_loop().time())
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        gc.unfreeze()

    @property
    def worst(self) -> float:
        """The latest wake-up, seconds past its time."""
        return max(self.lags, default=0.0)

    def stalled(self, start: float, end: float, longer_than: float) -> bool:
        """Whether a wake-up came more than `longer_than` late for a sleep that overlapped
        `start`..`end` (the loop's clock, `time.monotonic()`): the loop was held then."""
        return any(
            lag > longer_than and woke - lag - self.tick < end and woke > start
            for lag, woke in zip(self.lags, self.woke, strict=True)
        )

    @property
    def p99(self) -> float:
        """The 99th percentile of lateness, seconds."""
        ordered = sorted(self.lags)
        return ordered[int(len(ordered) * 0.99)] if ordered else 0.0


async def probed(work: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Run `work` under a LoopProbe; return seconds, worst/p99 lag (ms) and RSS growth (MB)."""
    async with LoopProbe() as probe:
        started = time.perf_counter()
        await work()
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "worst_lag_ms": round(probe.worst * 1000, 1),
        "p99_lag_ms": round(probe.p99 * 1000, 1),
        "rss_growth_mb": round((probe.peak_rss - probe.base_rss) / 2**20, 1),
    }
