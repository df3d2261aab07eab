"""Sales figures (payments/admin/figures.py) on a migrated database: the shop's calendar."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, Payment, Refund, Ticket, User
from db.models_subscriptions import Subscription
from tests.integration.admin_console import SHOP_TZ, Console
from tests.loop_probe import LoopProbe


async def _payment(
    session: AsyncSession,
    payment_id: str,
    user_id: str,
    amount: str,
    captured_at: datetime,
    *,
    status: str = "succeeded",
    is_test: bool = False,
) -> None:
    session.add(
        Payment(
            id=payment_id,
            idempotence_key=payment_id,
            kind="subscription",
            user_id=user_id,
            plan_code="monthly",
            amount=Decimal(amount),
            refunded_amount=Decimal("0.00"),
            status=status,
            is_test=is_test,
            description="d",
            created_at=captured_at,
            captured_at=captured_at if status == "succeeded" else None,
            expires_at=captured_at + timedelta(minutes=15),
        )
    )


async def test_stats_count_days_in_the_shop_time_zone(console: Console) -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=SHOP_TZ)
    console.clock.set(now.astimezone(UTC))
    late_yesterday = datetime(2026, 3, 9, 23, 30, tzinfo=SHOP_TZ)  # 20:30 UTC on the 9th
    early_today = datetime(2026, 3, 10, 0, 30, tzinfo=SHOP_TZ)  # 21:30 UTC on the 9th
    async with console.sessionmaker.begin() as session:
        for uid in ("1", "2", "3", "42", "test_user_1", "5"):
            session.add(User(id=uid, first_name="A", language="ru"))
        await session.flush()
        await _payment(session, "ZT_0000000001", "1", "100.00", late_yesterday)
        await _payment(session, "ZT_0000000002", "2", "200.00", early_today)
        await _payment(session, "ZT_0000000003", "42", "10.00", early_today, is_test=True)
        await _payment(session, "ZT_0000000004", "3", "400.00", now - timedelta(days=8))
        await _payment(session, "ZT_0000000005", "5", "800.00", early_today, status="canceled")
        await _payment(session, "ZT_0000000006", "1", "100.00", now - timedelta(days=40))
        for uid in ("1", "2", "42", "test_user_1"):
            session.add(
                Subscription(
                    user_id=uid,
                    plan_code="monthly",
                    status="active",
                    starts_at=now - timedelta(days=1),
                    expires_at=now + timedelta(days=20),
                )
            )
    stats = await console.figures.stats(7)
    assert (stats.today.revenue, stats.today.paid_orders) == (Decimal("200.00"), 1)
    assert (stats.week.revenue, stats.week.paid_orders) == (Decimal("300.00"), 2)
    assert (stats.month.revenue, stats.month.paid_orders) == (Decimal("700.00"), 3)
    # User 1 first paid 40 days ago: not new. Users 2 (today) and 3 (8 days ago) are.
    assert (stats.today.new_subscribers, stats.week.new_subscribers) == (1, 1)
    assert stats.month.new_subscribers == 2
    assert stats.active_subscriptions == 2  # "42" and "test_user_1" are test users
    series = {d.day: d.subscriptions for d in stats.series}
    assert len(stats.series) == 30 and stats.series[-1].day == date(2026, 3, 10)
    assert series[date(2026, 3, 10)] == Decimal("200.00")
    assert series[date(2026, 3, 9)] == Decimal("100.00")
    assert sum(series.values()) == Decimal("700.00")


async def test_stats_sum_refunds_tickets_and_cohorts_and_leave_stars_and_test_payments_out(
    console: Console,
) -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=SHOP_TZ)
    console.clock.set(now.astimezone(UTC))
    two_days_ago = now - timedelta(days=2)
    async with console.sessionmaker.begin() as session:
        for uid in ("1", "2", "3", "42"):
            session.add(User(id=uid, first_name="A", language="ru"))
        await session.flush()
        # A ticket order paid today: 3 tickets, one of them refunded since (not sold).
        session.add(
            Order(
                id="ZT-20260310-001",
                user_id="1",
                visit_date=date(2026, 3, 12),
                slot_time="12:00",
                seats=3,
                total=Decimal("2500.00"),
                status="paid",
                created_at=now,
            )
        )
        await session.flush()
        session.add(
            Payment(
                id="ZT_0000000011",
                idempotence_key="k11",
                kind="tickets",
                order_id="ZT-20260310-001",
                user_id="1",
                amount=Decimal("2500.00"),
                refunded_amount=Decimal("700.00"),
                status="succeeded",
                description="d",
                created_at=now - timedelta(hours=1),
                captured_at=now - timedelta(minutes=50),
                expires_at=now,
            )
        )
        await session.flush()
        for n, status in enumerate(("valid", "used", "refunded")):
            session.add(
                Ticket(
                    code=f"ZT-CODE-{n}",
                    order_id="ZT-20260310-001",
                    payment_id="ZT_0000000011",
                    user_id="1",
                    ticket_type="adult",
                    visit_date=date(2026, 3, 12),
                    slot_time="12:00",
                    status=status,
                    created_at=now - timedelta(minutes=50),
                )
            )
        session.add(
            Refund(
                payment_id="ZT_0000000011",
                idempotence_key="r1",
                amount=Decimal("700.00"),
                status="succeeded",
                applied_at=now - timedelta(minutes=10),
            )
        )
        # Subscriptions two days ago: cohorts new and regular; one never captured (older data).
        await _payment(session, "ZT_0000000012", "2", "299.00", two_days_ago)
        await _payment(session, "ZT_0000000013", "3", "249.00", two_days_ago)
        await session.flush()
        for pid, cohort in (("ZT_0000000012", "new"), ("ZT_0000000013", "regular")):
            payment = await session.get(Payment, pid)
            assert payment is not None
            payment.cohort = cohort
        uncaptured = await session.get(Payment, "ZT_0000000013")
        assert uncaptured is not None
        uncaptured.captured_at = None  # counted by its created_at
        # Stars are not roubles; a test payment is not a sale.
        await _payment(session, "ZT_0000000014", "2", "100.00", two_days_ago)
        await session.flush()
        stars = await session.get(Payment, "ZT_0000000014")
        assert stars is not None
        stars.currency = "XTR"
        await _payment(session, "ZT_0000000015", "42", "999.00", two_days_ago, is_test=True)
    stats = await console.figures.stats(7)
    assert (stats.today.revenue, stats.today.refunds) == (Decimal("2500.00"), Decimal("700.00"))
    assert (stats.today.paid_orders, stats.today.tickets_sold) == (1, 2)
    assert (stats.week.revenue, stats.week.paid_orders) == (Decimal("3048.00"), 3)
    assert stats.week.new_subscribers == 2  # users 2 and 3; Stars count as a subscription
    assert stats.cohorts == (("new", 1), ("regular", 1))
    series = {d.day: (d.tickets, d.subscriptions) for d in stats.series}
    assert series[date(2026, 3, 10)] == (Decimal("2500.00"), Decimal("0.00"))
    assert series[date(2026, 3, 8)] == (Decimal("0.00"), Decimal("548.00"))


@pytest.mark.sqlite_only
async def test_stats_over_many_payments_leave_the_loop_free(console: Console) -> None:
    # The month's aggregates read every payment of it: on SQLite they must run in the
    # reader's worker thread (Reader.report), never through the sessionmaker on the loop.
    now = datetime(2026, 3, 10, 12, 0, tzinfo=SHOP_TZ)
    console.clock.set(now.astimezone(UTC))
    count = 100_000
    async with console.sessionmaker.begin() as session:
        session.add(User(id="1", first_name="A", language="ru"))
        await session.flush()
        await session.execute(
            insert(Payment),
            [
                {
                    "id": f"ZT_{n:010d}",
                    "idempotence_key": f"ZT_{n:010d}",
                    "kind": "subscription",
                    "plan_code": "monthly",
                    "user_id": "1",
                    "amount": Decimal("100.00"),
                    "refunded_amount": Decimal("0.00"),
                    "status": "succeeded",
                    "description": "d",
                    "created_at": (at := now - timedelta(minutes=n % 40_000)),
                    "captured_at": at,
                    "expires_at": at + timedelta(minutes=15),
                }
                for n in range(count)
            ],
        )
    loop = asyncio.get_running_loop()

    async with LoopProbe() as probe:
        started = loop.time()
        stats = await console.figures.stats(7)
        took = loop.time() - started

    assert stats.month.paid_orders == count
    assert took > 10 * probe.tick, "the figures were too quick to tell anything"
    # Run on the loop, the probe would wake up late by most of the figures' time.
    assert probe.worst < took / 3, (probe.worst, took)
