"""Sales figures (payments/admin/figures.py) on a migrated database: the shop's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment, Subscription, User
from tests.integration.admin_console import SHOP_TZ, Console


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
