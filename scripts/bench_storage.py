"""make bench's storage parts: seat holds, the expiry sweep, memory with users in FSM state."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_kit import (  # noqa: E402
    FSM_USERS,
    HOLD_BUYERS,
    HOLDS_EACH,
    SECRET,
    SHOP,
    SWEEP_ROWS,
    Row,
    paying_settings,
    rss_mb,
    settings_for,
)

from db.engine import create_engine, create_sessionmaker  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Payment, User  # noqa: E402
from db.repositories.inventory import hold_seats  # noqa: E402
from main import build  # noqa: E402
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
