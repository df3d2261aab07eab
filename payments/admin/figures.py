"""Sales figures for /stats: today, 7 and 30 days (shop time zone), test payments excluded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, Refund, Subscription, Ticket
from payments.admin import audit
from payments.admin.renewals import RenewalFigures, renewal_figures
from payments.money import ZERO, wire
from payments.ports import Clock
from payments.types import PaymentKind, PaymentStatus, TicketStatus

SERIES_DAYS = 30
WEEK_DAYS = 7


@dataclass(frozen=True, slots=True)
class Figures:
    """Sales in one period, test payments excluded."""

    revenue: Decimal
    refunds: Decimal
    paid_orders: int
    tickets_sold: int
    new_subscribers: int


@dataclass(frozen=True, slots=True)
class DayRevenue:
    """Money taken on one day of the shop's calendar."""

    day: date
    tickets: Decimal
    subscriptions: Decimal


@dataclass(frozen=True, slots=True)
class Stats:
    """Figures for today, 7 and 30 days, active subscriptions, and the 30-day series."""

    today: Figures
    week: Figures
    month: Figures
    active_subscriptions: int
    series: tuple[DayRevenue, ...]
    as_of: datetime
    # Subscriptions paid in 30 days per cohort (`new`, `regular`, ...), most first.
    cohorts: tuple[tuple[str, int], ...] = ()
    # Auto-renewal now and over the 30 days.
    renewals: RenewalFigures | None = None


def _aware(value: Any) -> datetime | None:
    """Return an aware UTC datetime from an aggregate (SQLite hands those back as text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)  # noqa: S101 - driver contract
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SalesFigures:
    """The sales an admin sees in /stats."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        tz: ZoneInfo,
        test_user_ids: frozenset[str],
    ) -> None:
        """Keep the collaborators; test users' subscriptions are not counted as active."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._tz = tz
        self._test_ids = test_user_ids

    def _day_start(self, day: date) -> datetime:
        return datetime.combine(day, day_time(0), tzinfo=self._tz).astimezone(UTC)

    async def stats(self, admin_id: int) -> Stats:
        """Return sales for today, 7 and 30 days (shop time zone), test payments excluded."""
        now = self._clock.now()
        today = now.astimezone(self._tz).date()
        first_day = today - timedelta(days=SERIES_DAYS - 1)
        starts = {
            "today": self._day_start(today),
            "week": self._day_start(today - timedelta(days=WEEK_DAYS - 1)),
            "month": self._day_start(first_day),
        }
        since = starts["month"]
        paid_at = func.coalesce(Payment.captured_at, Payment.created_at)
        async with self._sessionmaker() as session:
            paid = (
                await session.execute(
                    select(
                        Payment.kind,
                        Payment.amount,
                        Payment.captured_at,
                        Payment.created_at,
                        Payment.cohort,
                    ).where(
                        Payment.status == PaymentStatus.SUCCEEDED,
                        Payment.is_test.is_(False),
                        Payment.currency == "RUB",  # Stars (XTR) are not roubles
                        or_(
                            Payment.captured_at >= since,
                            and_(Payment.captured_at.is_(None), Payment.created_at >= since),
                        ),
                    )
                )
            ).all()
            refunded = (
                await session.execute(
                    select(Refund.amount, Refund.applied_at)
                    .join(Payment, Payment.id == Refund.payment_id)
                    .where(
                        Refund.applied_at >= since,
                        Payment.is_test.is_(False),
                        Payment.currency == "RUB",
                    )
                )
            ).all()
            issued = (
                await session.execute(
                    select(Ticket.created_at)
                    .join(Payment, Payment.id == Ticket.payment_id)
                    .where(
                        Ticket.created_at >= since,
                        Ticket.status != TicketStatus.REFUNDED,
                        Payment.is_test.is_(False),
                    )
                )
            ).scalars()
            tickets_at = list(issued)
            firsts = (
                await session.execute(
                    select(Payment.user_id, func.min(paid_at))
                    .where(
                        Payment.kind == PaymentKind.SUBSCRIPTION,
                        Payment.status == PaymentStatus.SUCCEEDED,
                        Payment.is_test.is_(False),
                    )
                    .group_by(Payment.user_id)
                    .having(func.min(paid_at) >= since)
                )
            ).all()
            active_query = select(func.count(Subscription.id)).where(
                Subscription.status == "active",
                Subscription.expires_at > now,
                ~Subscription.user_id.ilike("%test%"),
            )
            if self._test_ids:
                active_query = active_query.where(Subscription.user_id.not_in(self._test_ids))
            active = int((await session.execute(active_query)).scalar_one())
            renewals = await renewal_figures(session, now=now, since=since, test_ids=self._test_ids)

        payments = [
            (kind, amount, captured or created) for kind, amount, captured, created, _ in paid
        ]
        cohorts = Counter(
            cohort for kind, *_, cohort in paid if kind == PaymentKind.SUBSCRIPTION and cohort
        )
        first_paid = [moment for _, value in firsts if (moment := _aware(value)) is not None]

        def figures(start: datetime) -> Figures:
            return Figures(
                revenue=sum((a for _, a, at in payments if at >= start), ZERO),
                refunds=sum((a for a, at in refunded if at is not None and at >= start), ZERO),
                paid_orders=sum(1 for _, _, at in payments if at >= start),
                tickets_sold=sum(1 for at in tickets_at if at >= start),
                new_subscribers=sum(1 for at in first_paid if at >= start),
            )

        by_day: dict[date, list[Decimal]] = {
            first_day + timedelta(days=n): [ZERO, ZERO] for n in range(SERIES_DAYS)
        }
        for kind, amount, at in payments:
            bucket = by_day.get(at.astimezone(self._tz).date())
            if bucket is not None:
                bucket[0 if kind == PaymentKind.TICKETS else 1] += amount
        stats = Stats(
            today=figures(starts["today"]),
            week=figures(starts["week"]),
            month=figures(starts["month"]),
            active_subscriptions=active,
            series=tuple(DayRevenue(d, v[0], v[1]) for d, v in sorted(by_day.items())),
            as_of=now,
            cohorts=tuple(sorted(cohorts.items(), key=lambda item: (-item[1], item[0]))),
            renewals=renewals,
        )
        await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            "stats",
            None,
            {},
            f"30 days: revenue {wire(stats.month.revenue)}, {stats.month.paid_orders} orders",
        )
        return stats
