"""How long the admin's reports hold the event loop: seed a big shop, run /stats and /export.

    .venv/bin/python scripts/report_stall.py [ROWS] [DATABASE_URL]

ROWS payments (default 200 000; a quarter as many users, 1.5 tickets per payment) go into a
fresh temporary SQLite file, or into DATABASE_URL (a PostgreSQL database is emptied first, so
give it a throw-away one, e.g. `scripts/with-services.sh sh -c '... "$TEST_DATABASE_URL"'`);
ROWS 0 measures DATABASE_URL as it is.
Then the use-cases behind /stats and `/export 3660` run while `LoopProbe` measures the loop.

Reusable parts (the bench may import them): `tests/loop_probe.py`'s `LoopProbe` and `probed` (a
task sleeping 10 ms, recording how late it wakes, and the process's RSS meanwhile), and here
`seed_shop` (bulk INSERTs on either database) and `measure_reports` (both reports under the
probe, one dict of figures).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from db.engine import create_engine, create_sessionmaker  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import AuditLog, Order, Payment, Ticket, User  # noqa: E402
from db.reader import Reader  # noqa: E402
from payments.admin.export import MAX_EXPORT_DAYS, Export  # noqa: E402
from payments.admin.figures import SalesFigures  # noqa: E402
from tests.loop_probe import probed  # noqa: E402

TZ = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHUNK = 5000


async def seed_shop(engine: AsyncEngine, payments: int, *, now: datetime = NOW) -> None:
    """Bulk-insert `payments` payments over ~10 years (denser lately), users and tickets.

    Half the payments buy tickets (an order and three tickets each), half subscriptions; most
    succeeded, some canceled or pending; a few are test payments. Emptying comes first.
    """
    users = max(1, payments // 4)
    async with engine.begin() as connection:
        for model in (AuditLog, Ticket, Payment, Order, User):
            await connection.execute(delete(model))
        for start in range(0, users, CHUNK):
            await connection.execute(
                insert(User),
                [
                    {"id": str(100000 + n), "first_name": f"U{n}", "created_at": now}
                    for n in range(start, min(users, start + CHUNK))
                ],
            )
    for start in range(0, payments, CHUNK):
        orders: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        tickets: list[dict[str, Any]] = []
        for n in range(start, min(payments, start + CHUNK)):
            # A third of the payments in the last 30 days, the rest over ten years.
            age = timedelta(minutes=(n * 7919) % (30 * 1440)) if n % 3 == 0 else None
            age = age or timedelta(minutes=(n * 104729) % (3650 * 1440))
            created = now - age
            user = str(100000 + n % users)
            status = ("succeeded", "succeeded", "succeeded", "canceled", "pending")[n % 5]
            tickets_kind = n % 2 == 0
            pid = f"ZT_{n:010d}"
            row: dict[str, Any] = {
                "id": pid,
                "provider_id": f"yk-{n}",
                "idempotence_key": pid,
                "kind": "tickets" if tickets_kind else "subscription",
                "user_id": user,
                "order_id": None,
                "plan_code": None if tickets_kind else "monthly",
                "cohort": None if tickets_kind else ("new", "regular")[n % 3 % 2],
                "amount": Decimal("2500.00") if tickets_kind else Decimal("299.00"),
                "refunded_amount": Decimal("0.00"),
                "currency": "RUB",
                "status": status,
                "is_test": n % 97 == 0,
                "description": "=formula? no: " + pid,
                "customer_email": f"u{n}@example.com",
                "source": "bot",
                "extra": {},
                "created_at": created,
                "updated_at": created,
                "captured_at": created + timedelta(minutes=2) if status == "succeeded" else None,
                "expires_at": created + timedelta(minutes=15),
            }
            if tickets_kind:
                order_id = f"ZT-{n:012d}"
                row["order_id"] = order_id
                visit = (created + timedelta(days=3)).date()
                orders.append(
                    {
                        "id": order_id,
                        "user_id": user,
                        "visit_date": visit,
                        "slot_time": "12:00",
                        "seats": 3,
                        "total": Decimal("2500.00"),
                        "status": "paid" if status == "succeeded" else "pending",
                        "created_at": created,
                    }
                )
                if status == "succeeded":
                    tickets += [
                        {
                            "code": f"T{n:010d}{k}",
                            "order_id": order_id,
                            "payment_id": pid,
                            "user_id": user,
                            "ticket_type": "adult",
                            "visit_date": visit,
                            "slot_time": "12:00",
                            "status": "valid",
                            "created_at": created + timedelta(minutes=2),
                        }
                        for k in range(3)
                    ]
            rows.append(row)
        async with engine.begin() as connection:
            if orders:
                await connection.execute(insert(Order), orders)
            await connection.execute(insert(Payment), rows)
            if tickets:
                await connection.execute(insert(Ticket), tickets)


async def measure_reports(url: str, *, days: int = MAX_EXPORT_DAYS) -> dict[str, Any]:
    """Run /stats' and /export's use-cases on a seeded database, each under a LoopProbe."""
    engine = create_engine(url)
    reader = Reader(engine)
    sessionmaker = create_sessionmaker(engine)

    class Fixed:
        def now(self) -> datetime:
            return NOW

    figures = SalesFigures(
        sessionmaker=sessionmaker, reader=reader, clock=Fixed(), tz=TZ, test_user_ids=frozenset()
    )
    export = Export(sessionmaker=sessionmaker, reader=reader, clock=Fixed(), tz=TZ)
    out: dict[str, Any] = {}
    # As the service's entry point does after start-up: full collections skip what is built.
    gc.collect()
    gc.freeze()
    try:
        out["idle"] = await probed(lambda: asyncio.sleep(1.0))
        out["stats"] = await probed(lambda: figures.stats(1))
        exported: list[Any] = []

        async def run_export() -> None:
            exported.append(await export.export(1, days))

        out["export"] = await probed(run_export)
        files = exported[0]
        out["export"]["rows"] = files.payments
        out["export"]["csv_mb"] = round(sum(p.stat().st_size for p in files.payments_parts) / 1e6)
        out["export"]["parts"] = len(files.payments_parts)
        files.remove()
    finally:
        reader.close()
        await engine.dispose()
    return out


async def main(argv: list[str]) -> None:
    """Seed, then measure; print one line per report."""
    rows = int(argv[1]) if len(argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        url = argv[2] if len(argv) > 2 else f"sqlite+aiosqlite:///{tmp}/stall.db"
        engine = create_engine(url)
        await upgrade(engine)
        started = time.perf_counter()
        if rows:  # 0: measure the database as it is
            await seed_shop(engine, rows)
        await engine.dispose()
        print(f"seeded {rows} payments in {time.perf_counter() - started:.1f} s ({url[:20]}…)")
        for name, figures in (await measure_reports(url)).items():
            print(f"{name:7} {figures}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv))
