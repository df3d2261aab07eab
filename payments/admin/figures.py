"""Sales figures for /stats: today, 7 and 30 days (shop time zone), test payments excluded.

Every figure is a set-based aggregate: the database sums and counts per day of the shop's
calendar (a CASE over the 30 local midnights, so any time zone works on SQLite too) and hands
back at most a few dozen rows; Python only adds days up into today, 7 and 30 days. The reads
go through `Reader.report`: on SQLite a worker thread with its own connection, off the loop.
Migration 0007's indexes serve them (see its docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, case, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from db.models import Payment, Refund, Ticket
from db.models_subscriptions import Subscription
from db.reader import Reader
from payments.admin import audit
from payments.admin.renewals import RenewalFigures, renewal_figures_of, renewal_statements
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


class SalesFigures:
    """The sales an admin sees in /stats."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        reader: Reader,
        clock: Clock,
        tz: ZoneInfo,
        test_user_ids: frozenset[str],
    ) -> None:
        """Keep the collaborators; test users' subscriptions are not counted as active."""
        self._sessionmaker = sessionmaker
        self._reader = reader
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
        days = [first_day + timedelta(days=n) for n in range(SERIES_DAYS)]
        starts = [self._day_start(day) for day in days]
        # One read off the loop: the sales aggregates, then the auto-renewal block's.
        test_ids = self._test_ids
        results = await self._reader.report(
            lambda: (
                *_statements(starts, now, test_ids),
                *renewal_statements(now=now, since=starts[0], test_ids=test_ids),
            )
        )
        paid, cohorts, refunded, tickets, firsts, active = results[:6]
        renewals = renewal_figures_of(results[6:])

        revenue = {(kind, day): (amount, count) for kind, day, amount, count in paid}
        refunds: dict[int, Decimal] = dict(refunded)
        issued: dict[int, int] = dict(tickets)
        new: dict[int, int] = dict(firsts)

        def figures(first: int) -> Figures:
            span = range(first, SERIES_DAYS)
            takings = [cell for (_, n), cell in revenue.items() if n >= first]
            return Figures(
                revenue=sum((amount for amount, _ in takings), ZERO),
                refunds=sum((refunds.get(n) or ZERO for n in span), ZERO),
                paid_orders=sum(int(count) for _, count in takings),
                tickets_sold=sum(int(issued.get(n, 0)) for n in span),
                new_subscribers=sum(int(new.get(n, 0)) for n in span),
            )

        def taken(n: int, *, tickets: bool) -> Decimal:
            cells = (
                cell[0]
                for (kind, day), cell in revenue.items()
                if day == n and (kind == PaymentKind.TICKETS) == tickets
            )
            return sum(cells, ZERO)

        stats = Stats(
            today=figures(SERIES_DAYS - 1),
            week=figures(SERIES_DAYS - WEEK_DAYS),
            month=figures(0),
            active_subscriptions=int(active[0][0]),
            series=tuple(
                DayRevenue(day, taken(n, tickets=True), taken(n, tickets=False))
                for n, day in enumerate(days)
            ),
            as_of=now,
            cohorts=tuple(
                sorted(((c, int(n)) for c, n in cohorts), key=lambda item: (-item[1], item[0]))
            ),
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


def day_number(
    moment: ColumnElement[Any] | InstrumentedAttribute[Any], starts: Sequence[datetime]
) -> ColumnElement[int]:
    """The shop day (0 = the first of `starts`) a moment falls in, computed by the database.

    `starts` are the UTC instants of consecutive local midnights; a moment before the first is
    day 0 (callers filter those out), one after the last belongs to the last day.
    """
    later_first = list(enumerate(starts))[:0:-1]
    return case(*((moment >= start, n) for n, start in later_first), else_=0)


def _statements(
    starts: Sequence[datetime], now: datetime, test_ids: frozenset[str]
) -> tuple[Executable, ...]:
    """The six aggregates of /stats, each a handful of rows, in the order `stats` unpacks."""
    since = starts[0]
    paid_at = func.coalesce(Payment.captured_at, Payment.created_at)
    real_roubles = (
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.is_test.is_(False),
        Payment.currency == "RUB",  # Stars (XTR) are not roubles
    )
    # Paid in the period: captured since, or (never captured) created since. Two branches of
    # UNION ALL, each one range of ix_payments_captured, rather than an OR that the
    # planner may read as a scan of every succeeded payment.
    columns = (Payment.kind, Payment.cohort, day_number(paid_at, starts).label("day"))
    paid = union_all(
        select(*columns, Payment.amount).where(*real_roubles, Payment.captured_at >= since),
        select(*columns, Payment.amount).where(
            *real_roubles, Payment.captured_at.is_(None), Payment.created_at >= since
        ),
    ).subquery()
    by_day = select(paid.c.kind, paid.c.day, func.sum(paid.c.amount), func.count()).group_by(
        paid.c.kind, paid.c.day
    )
    cohorts = (
        select(paid.c.cohort, func.count())
        .where(paid.c.kind == PaymentKind.SUBSCRIPTION, paid.c.cohort != "")
        .group_by(paid.c.cohort)
    )
    refund_rows = (
        select(day_number(Refund.applied_at, starts).label("day"), Refund.amount)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.applied_at >= since, Payment.is_test.is_(False), Payment.currency == "RUB")
        .subquery()
    )
    refunds = select(refund_rows.c.day, func.sum(refund_rows.c.amount)).group_by(refund_rows.c.day)
    ticket_rows = (
        select(day_number(Ticket.created_at, starts).label("day"))
        .join(Payment, Payment.id == Ticket.payment_id)
        .where(
            Ticket.created_at >= since,
            Ticket.status != TicketStatus.REFUNDED,
            Payment.is_test.is_(False),
        )
        .subquery()
    )
    tickets = select(ticket_rows.c.day, func.count()).group_by(ticket_rows.c.day)
    # New subscribers: users whose first paid subscription ever falls in the period. One pass
    # over the subscription payments, grouped by user, keeping those whose earliest is recent.
    # (It was a NOT EXISTS per payment of the period; with the statistics behind a bulk load,
    # PostgreSQL probed a bitmap of every succeeded payment once per row: /stats over 200 000
    # payments took 97 s. The pass does not depend on the planner's estimates.)
    first_paid = (
        select(func.min(paid_at).label("first"))
        .where(
            Payment.kind == PaymentKind.SUBSCRIPTION,
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.is_test.is_(False),
        )
        .group_by(Payment.user_id)
        .having(func.min(paid_at) >= since)
        .subquery()
    )
    first_days = select(day_number(first_paid.c.first, starts).label("day")).subquery()
    firsts = select(first_days.c.day, func.count()).group_by(first_days.c.day)
    active = select(func.count(Subscription.id)).where(
        Subscription.status == "active",
        Subscription.expires_at > now,
        ~Subscription.user_id.ilike("%test%"),
    )
    if test_ids:
        active = active.where(Subscription.user_id.not_in(test_ids))
    return by_day, cohorts, refunds, tickets, firsts, active
