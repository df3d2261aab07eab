"""The Reader's compiled reads give what SQLAlchemy's execution gives (db/plan.py).

/my, the slot picker and the webhook's look-ups read through plans compiled once; a row that
came back with a string for a datetime, a float for money or text for JSON would show wrong
figures or break the screen. The services run checks the same rows on PostgreSQL, where the
plans run on asyncpg.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Select, column, select, table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import Order, Payment, Ticket, User
from db.models_subscriptions import Subscription
from db.reader import Reader
from payments.account import OWNED, SUMMARY, UNPAID
from payments.stars.accounts import STARS_CHARGES

NOW = datetime(2030, 3, 10, 9, 30, tzinfo=UTC)
MSK = timezone(timedelta(hours=3))


def _payment(payment_id: str, **fields: Any) -> Payment:
    values: dict[str, Any] = {
        "id": payment_id,
        "idempotence_key": payment_id,
        "kind": "tickets",
        "user_id": "77",
        "amount": Decimal("1250.50"),
        "refunded_amount": Decimal("0.00"),
        "status": "pending",
        "description": "d",
        "expires_at": NOW + timedelta(minutes=15),
        "created_at": NOW,
    }
    return Payment(**(values | fields))


async def _seed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        session.add(User(id="77", first_name="Ivan", language="ru"))
        await session.flush()
        session.add(
            Subscription(
                user_id="77", plan_code="monthly", starts_at=NOW, expires_at=NOW + timedelta(30)
            )
        )
        session.add(
            Order(
                id="ZT-20300310-001",
                user_id="77",
                visit_date=NOW.date() + timedelta(days=2),
                slot_time="10:00",
                seats=1,
                seats_held=True,
                total=Decimal("1250.50"),
                status="paid",
            )
        )
        await session.flush()
        session.add_all(
            [
                _payment("ZT_0000000001", order_id="ZT-20300310-001", status="succeeded"),
                _payment(
                    "ZT_0000000002",
                    order_id="ZT-20300310-001",
                    confirmation_url="https://pay.example/2",
                ),
                _payment(
                    "ZT_0000000003",
                    kind="subscription",
                    plan_code="stars_monthly",
                    currency="XTR",
                    status="succeeded",
                    provider_id="charge-3",
                    amount=Decimal("250.00"),
                    extra={"stars_canceled": None, "note": [1, 2]},
                ),
            ]
        )
        await session.flush()
        session.add(
            Ticket(
                code="CODE-1",
                order_id="ZT-20300310-001",
                payment_id="ZT_0000000001",
                user_id="77",
                ticket_type="adult",
                visit_date=NOW.date() + timedelta(days=2),
                slot_time="10:00",
                status="valid",
            )
        )


async def test_compiled_reads_give_the_rows_sqlalchemy_gives(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(sessionmaker)
    reader = Reader(engine)
    reads: list[tuple[Select[*tuple[Any, ...]], dict[str, Any]]] = [
        (SUMMARY, {"user_id": "77", "today": NOW.date()}),
        (UNPAID, {"user_id": "77", "now": NOW}),
        # Bound datetimes compare as SQLAlchemy stores them: UTC, whatever the caller's zone.
        (UNPAID, {"user_id": "77", "now": (NOW + timedelta(minutes=14)).astimezone(MSK)}),
        (UNPAID, {"user_id": "77", "now": (NOW + timedelta(minutes=15)).astimezone(MSK)}),
        (STARS_CHARGES, {"user_id": "77"}),
        (OWNED, {"user_id": "77"}),
        (select(User.id, User.created_at).where(User.id == "77"), {}),
    ]
    try:
        assert [len(await reader.rows(UNPAID, params)) for _, params in reads[1:4]] == [1, 1, 0]
        for statement, params in reads:
            async with engine.connect() as connection:
                expected = (await connection.execute(statement, params)).all()
            for _ in range(2):  # compiled on the first read, reused on the second
                rows = await reader.rows(statement, params)
                assert [tuple(r) for r in rows] == [tuple(r) for r in expected], statement
                assert [type(v) for r in rows for v in r] == [type(v) for r in expected for v in r]
                assert all(
                    getattr(row, key) == getattr(want, key)
                    for row, want in zip(rows, expected, strict=True)
                    for key in statement.selected_columns.keys()  # noqa: SIM118
                )
        summary = (await reader.rows(SUMMARY, reads[0][1]))[0]
        assert summary.expires_at == NOW + timedelta(30) and summary.expires_at.tzinfo is not None
        assert summary.sub_status == "active" and summary[5:][1] == "CODE-1"
        unpaid = (await reader.rows(UNPAID, reads[1][1]))[0]
        assert unpaid.amount == Decimal("1250.50") and unpaid.confirmation_url.endswith("/2")
        stars = (await reader.rows(STARS_CHARGES, reads[4][1]))[0]
        assert stars.extra == {"stars_canceled": None, "note": [1, 2]}
    finally:
        reader.close()


async def test_a_failing_read_raises_what_sqlalchemy_raises(engine: AsyncEngine) -> None:
    # The webhook answers "try again" (503) on SQLAlchemyError; a bare driver error would be a 500.
    reader = Reader(engine)
    try:
        with pytest.raises(SQLAlchemyError):
            await reader.rows(select(column("x")).select_from(table("missing")), {})
        assert await reader.rows(select(User.id), {}) == []  # and the next read works
    finally:
        reader.close()
