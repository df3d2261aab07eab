"""make bench's storage parts: seat holds, the expiry sweep, memory with users in FSM state."""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_kit import (  # noqa: E402
    FSM_USERS,
    HOLD_BUYERS,
    HOLDS_EACH,
    SECRET,
    SHOP,
    SWEEP_REPEATS,
    SWEEP_ROWS,
    Row,
    paying_settings,
    rss_mb,
    settings_for,
)
from bench_proc import database, kinds, log  # noqa: E402

from db.engine import create_engine, create_sessionmaker  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Payment, User  # noqa: E402
from db.repositories.inventory import hold_seats  # noqa: E402
from main import build, settle_heap  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402
from tests.fakes.yookassa_api import FakeYooKassa  # noqa: E402

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


def _cluster_cpu(backend_pid: int | None) -> float:
    """CPU seconds used so far by the local PostgreSQL cluster a backend belongs to (0 if
    the server is not on this machine): every child of that backend's postmaster."""
    if backend_pid is None:
        return 0.0
    try:
        postmaster = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    except (OSError, IndexError):
        return 0.0
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == postmaster:
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def bench_sweep(tmp: Path, name: str, database_url: str) -> tuple[float, float]:
    """Expire 100 000 overdue pending payments on the fresh database at `database_url` (the
    service's folder: `tmp / name`); return (wall, CPU) seconds of the sweep.

    CPU: this process's, plus the local PostgreSQL cluster's when there is one, i.e. about what
    the wall clock would be on an idle machine.
    """
    folder = tmp / name
    folder.mkdir()
    async with FakeYooKassa(shop_id=SHOP, secret_key=SECRET) as yookassa:
        service = await build(paying_settings(folder, yookassa, DATABASE_URL=database_url))
        try:
            await service.payments.jobs.expire()  # start-up's first sweep: nothing is overdue
            await _overdue_payments(service.sessionmaker)
            # As `python main.py` runs (main.run → settle_heap): what start-up made is frozen
            # and young collections come every 5 000 objects. Left as the interpreter starts,
            # the sweep's one or two full collections walked start-up's ~310 000 objects and
            # the 100 000 rows this bench still held (0.21-0.27 s each, on the loop: both
            # workers' chunks waited). The rows are now made and dropped in the helper.
            settle_heap()
            backend = None
            if database_url.startswith("postgresql"):
                async with service.sessionmaker() as session:
                    backend = (await session.execute(text("SELECT pg_backend_pid()"))).scalar()
            started, cpu = time.perf_counter(), time.process_time() + _cluster_cpu(backend)
            report = await service.payments.jobs.expire()
            seconds = time.perf_counter() - started
            cpu = time.process_time() + _cluster_cpu(backend) - cpu
        finally:
            await service.stop()
    if report.changed != SWEEP_ROWS:
        raise RuntimeError(f"sweep changed {report.changed} of {SWEEP_ROWS}")
    return seconds, cpu


async def _overdue_payments(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Write SWEEP_ROWS pending payments of one customer, overdue by an hour, 10 000 a statement,
    into a database made for the sweep (so no id can be taken)."""
    user = "90"
    past = datetime.now(UTC) - timedelta(hours=1)

    def payment(i: int) -> dict[str, object]:
        return {
            "id": f"ZT_{i:010d}",
            "idempotence_key": f"ZT_{i:010d}",
            "provider_id": f"{i:08x}-000f-5000-8000-000000000000",
            "kind": "subscription",
            "user_id": user,
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

    async with sessionmaker.begin() as session:
        await session.execute(
            insert(User), [{"id": user, "first_name": "S", "language": "ru", "created_at": past}]
        )
        for start in range(0, SWEEP_ROWS, 10_000):
            rows = [payment(i) for i in range(start, min(start + 10_000, SWEEP_ROWS))]
            await session.execute(insert(Payment), rows)


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
    """The expiry sweep SWEEP_REPEATS times on each database: the median and the spread.

    Each sweep has a fresh database of its own (a SQLite file, a new PostgreSQL database), so
    none sweeps a table that an earlier sweep or part grew (eight sweeps in a row on one
    PostgreSQL database went from 2.3 to 5.0 s). CPU seconds
    beside the wall clock: on a shared machine the wall clock also counts the time the sweep
    waited for a core; the CPU figure (ours plus the local PostgreSQL's) is what it would take
    alone.
    """
    figures = dict.fromkeys(("sqlite", "postgresql"), "not run")
    for kind in kinds():
        runs = []
        for number in range(SWEEP_REPEATS):
            async with database(kind, tmp, f"sweep{number}") as url:
                runs.append(await bench_sweep(tmp, f"sweep-{kind}-{number}", url))
        walls = [wall for wall, _ in runs]
        log(f"expiry sweep on {kind}: " + ", ".join(f"{w:.2f}" for w in walls) + " s")
        figures[kind] = (
            f"{statistics.median(walls):.2f} s ({min(walls):.2f}–{max(walls):.2f}; "
            f"CPU {statistics.median(cpu for _, cpu in runs):.2f} s)"
        )
    return [
        Row(
            f"expiry sweep of {SWEEP_ROWS:,} overdue payments, median of {SWEEP_REPEATS}",
            f"SQLite {figures['sqlite']}",
            f"PostgreSQL {figures['postgresql']}",
            "goal < 2 s each",
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
