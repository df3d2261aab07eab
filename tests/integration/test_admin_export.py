"""/export's files on a migrated database: columns, cells, parts, and the rows read off the loop."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import AuditLog, Payment, User
from db.reader import Reader
from payments.admin.export import AUDIT_COLUMNS, PAYMENT_COLUMNS, Export
from payments.admin.results import Refusal
from tests.conftest import MovableClock
from tests.loop_probe import LoopProbe

TZ = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
async def reader(engine: AsyncEngine) -> AsyncIterator[Reader]:
    """The real reader of the test database."""
    reader = Reader(engine)
    try:
        yield reader
    finally:
        reader.close()


async def _shop(sessionmaker: async_sessionmaker[AsyncSession], payments: int) -> None:
    async with sessionmaker.begin() as session:
        session.add(User(id="7001", first_name="A", language="ru"))
        await session.flush()
        for n in range(payments):
            created = NOW - timedelta(hours=n + 1)
            session.add(
                Payment(
                    id=f"ZT_{n:010d}",
                    idempotence_key=f"key-{n}",
                    kind="subscription",
                    user_id="7001",
                    plan_code="monthly",
                    amount=Decimal("2500"),
                    refunded_amount=Decimal("0.00"),
                    status="succeeded",
                    description='=HYPERLINK("http://evil")' if n == 0 else f"plan {n}",
                    customer_phone="+7 999 000-00-00",
                    created_at=created,
                    captured_at=created + timedelta(minutes=1),
                    expires_at=created + timedelta(minutes=15),
                )
            )
        # Older than a week: not in `/export 7`.
        old = NOW - timedelta(days=9)
        session.add(
            Payment(
                id="ZT_9999999999",
                idempotence_key="old",
                kind="subscription",
                user_id="7001",
                plan_code="monthly",
                amount=Decimal("299.00"),
                status="canceled",
                description="old",
                created_at=old,
                expires_at=old + timedelta(minutes=15),
            )
        )


def _rows(paths: Sequence[Path]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8
        rows += csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return rows


async def test_export_writes_csv_files_with_escaped_cells_and_two_place_amounts(
    sessionmaker: async_sessionmaker[AsyncSession], reader: Reader, clock: MovableClock
) -> None:
    clock.set(NOW)
    await _shop(sessionmaker, 3)
    export = Export(sessionmaker=sessionmaker, reader=reader, clock=clock, tz=TZ)
    files = await export.export(7001, 7)
    with files:
        assert (files.payments, len(files.payments_parts)) == (3, 1)
        path = files.payments_parts[0]
        assert path.name == "payments-20260310-7d.csv"
        header = path.read_bytes().decode("utf-8-sig").splitlines()[0]
        assert tuple(header.split(",")) == PAYMENT_COLUMNS
        rows = _rows(files.payments_parts)
        assert [r["payment_id"] for r in rows] == [
            "ZT_0000000002",
            "ZT_0000000001",
            "ZT_0000000000",
        ]
        first = rows[-1]
        assert first["description"] == '\'=HYPERLINK("http://evil")'
        assert first["customer_phone"] == "'+7 999 000-00-00"
        assert (first["amount"], first["refunded_amount"]) == ("2500.00", "0.00")
        assert first["created_at"] == "2026-03-10T11:00:00+03:00"  # the shop's time zone
        assert first["is_test"] == "false"
        log_header = files.audit_parts[0].read_bytes().decode("utf-8-sig").splitlines()[0]
        assert tuple(log_header.split(",")) == AUDIT_COLUMNS
        assert files.folder.exists()
    assert not files.folder.exists()  # the temporary files are gone once used
    async with sessionmaker() as session:
        entry = (await session.execute(select(AuditLog))).scalars().one()
    assert (entry.action, entry.result) == ("export", "3 payments, 0 audit rows")


async def test_a_file_over_the_upload_limit_is_cut_into_parts_each_with_its_header(
    sessionmaker: async_sessionmaker[AsyncSession], reader: Reader, clock: MovableClock
) -> None:
    clock.set(NOW)
    await _shop(sessionmaker, 40)
    export = Export(sessionmaker=sessionmaker, reader=reader, clock=clock, tz=TZ, part_bytes=2000)
    with await export.export(7001, 7) as files:
        parts = files.payments_parts
        assert len(parts) > 2
        assert [p.name for p in parts[:2]] == [
            "payments-20260310-7d.csv",
            "payments-20260310-7d-part2.csv",
        ]
        assert all(p.stat().st_size <= 2000 for p in parts)
        rows = _rows(parts)
        assert len(rows) == files.payments == 40
        assert len({r["payment_id"] for r in rows}) == 40


async def test_export_refuses_a_period_out_of_range(
    sessionmaker: async_sessionmaker[AsyncSession], reader: Reader, clock: MovableClock
) -> None:
    export = Export(sessionmaker=sessionmaker, reader=reader, clock=clock, tz=TZ)
    for days in (0, 3661):
        with pytest.raises(Refusal) as refused:
            await export.export(7001, days)
        assert refused.value.reason == "export_days"


async def test_streamed_rows_come_in_chunks_to_a_worker_thread(
    sessionmaker: async_sessionmaker[AsyncSession], reader: Reader, clock: MovableClock
) -> None:
    await _shop(sessionmaker, 35)
    loop_thread = threading.get_ident()
    chunks: list[tuple[int, int]] = []

    def sink(rows: Sequence[Any]) -> None:
        chunks.append((len(rows), threading.get_ident()))

    count = await reader.stream(select(Payment.id).order_by(Payment.id), sink, chunk=10)
    assert count == 36
    assert [size for size, _ in chunks] == [10, 10, 10, 6]  # never the whole result at once
    assert all(thread != loop_thread for _, thread in chunks)  # CSV work is off the loop


@pytest.mark.sqlite_only
async def test_a_long_report_read_leaves_the_loop_free(reader: Reader) -> None:
    # A statement that keeps SQLite busy for a while: counting to a few million.
    slow = text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
        "SELECT count(*) FROM c"
    )
    loop = asyncio.get_running_loop()
    async with LoopProbe() as probe:
        started = loop.time()
        (rows,) = await reader.report(lambda: [slow])
        took = loop.time() - started
    assert rows[0][0] == 3_000_000
    # Run on the loop, the probe would wake up late by the whole statement's time.
    assert took > 10 * probe.tick, "the statement was too quick to tell anything"
    assert probe.worst < took / 3, (probe.worst, took)
