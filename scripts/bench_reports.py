"""make bench's report stall: does an admin's /export or /stats freeze every customer's bot?

A big shop is seeded in bulk (200 000 payments, 50 000 users, 300 000 tickets). The service runs
in a process of its own with a task that sleeps 10 ms again and again and logs how late it woke
(the event loop's lag); this process probes /health every 10 ms from a thread and samples the
service's resident memory every 5 ms. An admin then sends /stats and /export 3660 through the
fake Telegram. Each figure stands beside the idle reference of the same run. /export runs once
at 50 000 payments and once at 200 000: its peak memory must not grow with the rows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench_kit import Row
from bench_proc import (
    HealthProbe,
    RssSampler,
    ServiceProcess,
    database,
    kinds,
    log,
    sized,
)
from bench_seed import seed

from tests.fakes.telegram_api import ChatMessage, FakeTelegramAPI, FakeUser

PAYMENTS = sized(200_000, 20_000)
SMALL_PAYMENTS = sized(50_000, 5_000)
USERS = sized(50_000, 5_000)
ADMIN = 900_001
IDLE_SECONDS = 3.0
REPORT_TIMEOUT = 600.0


@dataclass
class Stall:
    """What one admin action (or idling) did to the service."""

    seconds: float
    worst_lag: float
    worst_health: float
    peak_rss_growth: float = 0.0
    # Resident memory before the action and at its peak, by part (the log tells heap from files).
    memory: str = ""


async def _watch(
    service: ServiceProcess,
    action: Callable[[], Awaitable[None]] | None,
    seconds: float = IDLE_SECONDS,
) -> Stall:
    """Run an action (or idle) with /health and memory probed; return the worst figures."""
    with HealthProbe(f"{service.base_url}/health") as health, RssSampler(service) as rss:
        await asyncio.sleep(0.3)
        base_rss, base_parts = rss.peak, rss.at_peak
        rss.peak = 0.0
        health.reset()
        since, began = time.time(), time.perf_counter()
        if action is None:
            await asyncio.sleep(seconds)
        else:
            await action()
        taken = time.perf_counter() - began
        until = time.time()
        answers = health.reset()
        peak, peak_parts = rss.peak, rss.at_peak
    parts = " ".join(
        f"{name} {base_parts.get(name, 0):.0f}→{value:.0f}" for name, value in peak_parts.items()
    )
    lags = service.lags(since, until)
    return Stall(
        seconds=taken,
        worst_lag=max(lags, default=0.0),
        worst_health=max(answers, default=0.0),
        peak_rss_growth=max(0.0, peak - base_rss),
        memory=parts,
    )


def _admin_command(
    admin: FakeUser, text: str, done: Callable[[ChatMessage], bool]
) -> Callable[[], Awaitable[None]]:
    """An action: send `text` as the admin and wait until a bot message satisfies `done`."""

    async def act() -> None:
        seen = len(admin.chat.messages)
        await admin.send(text)

        def finished() -> bool | None:
            fresh = admin.chat.messages[seen:]
            return True if any(m.from_bot and done(m) for m in fresh) else None

        await admin.chat.signal.wait_until(finished, REPORT_TIMEOUT)

    return act


def _stats_done(message: ChatMessage) -> bool:
    """The figures come as the chart's caption, or as a text after or instead of the chart."""
    return bool(message.caption) or (not message.photos and bool(message.text))


def _export_done(message: ChatMessage) -> bool:
    """The admin log's CSV comes last in /export's answer (or a text refusal)."""
    names = [name for name, _ in message.documents]
    return any(name.startswith("admin-log") for name in names) or (
        not message.documents and not message.photos and "экспорт" in (message.text or "").lower()
    )


async def stall(kind: str, tmp: Path) -> dict[str, Stall]:
    """Seed, start the service, and measure idle, /stats and /export at both sizes."""
    folder = tmp / f"reports-{kind}"
    folder.mkdir()
    figures: dict[str, Stall] = {}
    async with (
        database(kind, folder, "reports") as url,
        FakeTelegramAPI(validate_html=False) as fake,
    ):
        counts = await seed(url, (0, SMALL_PAYMENTS), (0, USERS * SMALL_PAYMENTS // PAYMENTS))
        log(f"reports {kind}: seeded {counts}")
        env = {
            "DATABASE_URL": url,
            "BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE": fake.base_url,
            "ADMIN_IDS": str(ADMIN),
            "LOG_LEVEL": "WARNING",
        }
        service = ServiceProcess(env, folder, lag_file=folder / "lags.txt")
        await service.start()
        admin = fake.user(ADMIN, first_name="Admin")
        stats = _admin_command(admin, "/stats", _stats_done)
        export = _admin_command(admin, "/export 3660", _export_done)
        try:
            figures["idle"] = await _watch(service, None)
            figures["export small"] = await _watch(service, export)
            counts = await seed(
                url, (SMALL_PAYMENTS, PAYMENTS), (USERS * SMALL_PAYMENTS // PAYMENTS, USERS)
            )
            log(f"reports {kind}: seeded {counts}")
            figures["idle big"] = await _watch(service, None)
            figures["stats"] = await _watch(service, stats)
            figures["export"] = await _watch(service, export)
        finally:
            await service.stop()
    for name, figure in figures.items():
        log(f"reports {kind} {name}: {figure}")
    return figures


def rows_of(kind: str, figures: dict[str, Stall]) -> list[Row]:
    """The table rows of one database."""
    name = "SQLite" if kind == "sqlite" else "PostgreSQL"
    idle = figures["idle big"]
    ms = 1000
    rows = []
    for action, label in (("stats", "/stats"), ("export", "/export 3660")):
        figure = figures[action]
        rows.append(
            Row(
                f"{name}: worst loop lag / /health during {label} "
                f"({PAYMENTS:,} payments, took {figure.seconds:.1f} s)",
                f"{figure.worst_lag * ms:.0f} / {figure.worst_health * ms:.0f} ms",
                f"idle {idle.worst_lag * ms:.0f} / {idle.worst_health * ms:.0f} ms",
                "goal lag < 150 ms",
            )
        )
    small, big = figures["export small"], figures["export"]
    rows.append(
        Row(
            f"{name}: /export 3660 peak memory growth, {SMALL_PAYMENTS:,} → {PAYMENTS:,} payments",
            f"+{big.peak_rss_growth:.0f} MiB",
            f"+{small.peak_rss_growth:.0f} MiB",
            "goal: does not grow with rows",
        )
    )
    return rows


async def report_rows(tmp: Path) -> list[Row]:
    """The report stall on SQLite and, when the services run gives one, PostgreSQL."""
    rows: list[Row] = []
    for kind in kinds():
        rows += rows_of(kind, await stall(kind, tmp))
    return rows
