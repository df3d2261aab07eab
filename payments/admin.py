"""The admin console's use-cases: figures, payment look-up, refunds, grants, prices, capacity,
check-in, CSV export and broadcasts, with an audit row for every action. Never imports aiogram.

Every method takes the acting admin's Telegram id and returns a dataclass, or raises `Refusal`
(a reason the bot turns into a message, and an English note for the audit log). State changes
are conditional UPDATEs inside the use-case's transaction, the audit row is written in the same
transaction when the action changes something, and customers hear about it after commit.

Refunds (`refund`, `apply_refund`):

* The amount is reserved first: `payments.refunded_amount + x <= amount` in one UPDATE, so a
  refund beyond what is left is refused before YooKassa is asked, however many admins press.
  Each refund row has its own idempotence key, stored with it; asking again reuses it, so a
  retry after a timeout can never refund twice. YooKassa refusing or canceling a refund gives
  the reservation back.
* A refund is *applied* once (`refunds.applied_at` set by a conditional UPDATE), by whoever
  sees it succeed first: the admin flow or the `refund.succeeded` notification.
* Tickets: a partial refund is a goodwill amount. The tickets stay valid and the seats stay
  taken, because money alone does not say which visitor stays at home (and test orders cost
  10.00 whatever they hold). When the refunds of an order reach its full amount, every ticket
  still valid becomes `refunded` (a ticket already used stays `used`: that visit happened) and,
  if the slot has not started yet, their seats go back to the slot.
* Subscriptions are shortened pro rata to the money returned: the days a payment bought times
  the share refunded, rounded half up, counted cumulatively so partial refunds never drift:
  `removed(total) = round(days × refunded_total / amount)` and each refund removes
  `removed(after) − removed(before)` days from the end of the subscription, never before now
  (a subscription cut back to now ends at once).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, NoReturn, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    AuditLog,
    CohortPrice,
    Order,
    Payment,
    Refund,
    Subscription,
    SubscriptionPeriod,
    Ticket,
    User,
)
from db.repositories import audit as audit_repo
from db.repositories import inventory
from db.repositories import payments as payments_repo
from db.repositories import refunds as refunds_repo
from db.repositories import tickets as tickets_repo
from db.repositories.dialect import insert_for
from db.repositories.subscriptions import extend_subscription, get_subscription
from db.repositories.users import get_user, mark_blocked
from payments.catalog import Catalog
from payments.money import ZERO, wire
from payments.ports import (
    Clock,
    CustomerNotifier,
    PaymentGateway,
    Recipient,
    RefundMade,
    SubscriptionActivated,
)
from payments.pricing import plan_price
from payments.receipts import receipt_of, refund_receipt
from payments.subscriptions.quotes import price_overrides
from payments.types import (
    Cohort,
    PaymentKind,
    PaymentStatus,
    ProviderRefund,
    Receipt,
    TicketStatus,
)
from payments.yookassa.gateway import GatewayRejected, GatewayUnavailable

log = logging.getLogger(__name__)

SERIES_DAYS = 30
WEEK_DAYS = 7
MAX_GRANT_DAYS = 3650
MAX_EXPORT_DAYS = 3660
MAX_CAPACITY = 100_000
MAX_PRICE = Decimal("1000000.00")
EVENTS_SHOWN = 25
# A pending refund with no YooKassa answer may still be on its way; after this long (or once
# the gateway gave up on it, which is recorded) it is safe to ask again with its key.
REFUND_IN_FLIGHT = timedelta(minutes=10)
AUDIT_SHOWN = 10
SETTABLE_COHORTS = (Cohort.NEW, Cohort.RETURNING, Cohort.ACTIVE, Cohort.REGULAR)
TOKEN_TOLERANCE = 1e-9
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# States of a broadcast's audit row: its `result` moves through them by conditional UPDATEs.
BROADCAST_DRAFT = "awaiting confirmation"
BROADCAST_SENDING = "sending"
BROADCAST_STOPPING = "stop requested"
BROADCAST_CANCELED = "canceled"


class Refusal(Exception):
    """An admin action refused: `reason` names the message, `values` fill it, `note` is logged."""

    def __init__(self, reason: str, note: str, **values: object) -> None:
        """Keep the reason, the English note for the audit log and the values for the text."""
        super().__init__(note)
        self.reason = reason
        self.note = note
        self.values = values


# ---- results --------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class PaymentView:
    """A payment as the admin sees it."""

    id: str
    provider_id: str | None
    kind: str
    status: str
    cancel_reason: str | None
    user_id: str
    user_name: str
    order_id: str | None
    plan_code: str | None
    cohort: str | None
    amount: Decimal
    refunded_amount: Decimal
    is_test: bool
    description: str
    customer_email: str | None
    created_at: datetime
    captured_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventView:
    """One recorded event of a payment."""

    at: datetime
    source: str
    event: str
    status_before: str | None
    status_after: str | None


@dataclass(frozen=True, slots=True)
class TicketLine:
    """One ticket of a payment."""

    code: str
    ticket_type: str
    visit_date: date
    slot_time: str
    status: str
    checked_in_at: datetime | None


@dataclass(frozen=True, slots=True)
class PeriodView:
    """The subscription days a payment bought, and the subscription now."""

    days: int
    starts_at: datetime
    ends_at: datetime
    subscription_status: str | None
    subscription_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class RefundView:
    """One refund of a payment."""

    id: int
    amount: Decimal
    status: str
    provider_id: str | None
    requested_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditView:
    """One audit row."""

    at: datetime
    admin_id: int
    action: str
    result: str


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """A payment with its events, tickets or subscription period, refunds and audit rows."""

    payment: PaymentView
    events: tuple[EventView, ...]
    events_total: int
    tickets: tuple[TicketLine, ...]
    period: PeriodView | None
    refunds: tuple[RefundView, ...]
    audit: tuple[AuditView, ...]


class RefundState(StrEnum):
    """Where a refund stands after `refund`."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"  # YooKassa accepted it; refund.succeeded will finish it
    CANCELED = "canceled"
    UNANSWERED = "unanswered"  # YooKassa did not answer; the same key is retried next time


@dataclass(frozen=True, slots=True)
class RefundResult:
    """What a refund did to a payment."""

    payment_id: str
    kind: str
    refund_id: int
    amount: Decimal
    state: RefundState
    refunded_total: Decimal
    payment_amount: Decimal
    tickets_refunded: int
    tickets_total: int
    subscription_expires_at: datetime | None
    subscription_active: bool
    retried: bool


class RefundOutcome(StrEnum):
    """What applying a YooKassa refund did."""

    APPLIED = "applied"
    CANCELED = "canceled"
    PENDING = "pending"
    ALREADY = "already"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RefundApplied:
    """The result of `apply_refund`."""

    outcome: RefundOutcome
    refund_id: int | None = None
    payment_id: str | None = None


@dataclass(frozen=True, slots=True)
class GrantResult:
    """Days given to a user."""

    user_id: str
    days: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CohortPriceView:
    """A plan's price for one cohort and where it comes from: override, catalog or base."""

    cohort: str
    amount: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class PlanPrices:
    """A plan's base price and its price per cohort."""

    code: str
    days: int
    base: Decimal
    cohorts: tuple[CohortPriceView, ...]


@dataclass(frozen=True, slots=True)
class PriceList:
    """Every plan's prices, and what test users pay."""

    plans: tuple[PlanPrices, ...]
    test_price: Decimal


@dataclass(frozen=True, slots=True)
class PriceChange:
    """A cohort price before and after `/setprice`."""

    cohort: str
    plan_code: str
    old: Decimal
    new: Decimal


@dataclass(frozen=True, slots=True)
class CapacityResult:
    """A slot's capacity and the seats taken in it."""

    visit_date: date
    slot_time: str
    capacity: int
    taken: int
    sold: int
    on_hold: int


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A ticket let in at the gate."""

    code: str
    ticket_type: str
    visit_date: date
    slot_time: str
    order_id: str
    user_id: str
    user_name: str
    checked_in_at: datetime


@dataclass(frozen=True, slots=True)
class ExportFiles:
    """Payments and audit rows of a period as CSV files (UTF-8 with a BOM, for spreadsheets)."""

    days: int
    as_of: datetime
    payments_csv: bytes
    audit_csv: bytes
    payments: int
    audit_rows: int


@dataclass(frozen=True, slots=True)
class BroadcastDraft:
    """A broadcast waiting for confirmation: its audit row id and how many would get it."""

    id: int
    recipients: int
    text: str


# ---- broadcast ports and pacing -------------------------------------------------------------


class Delivery(StrEnum):
    """How sending one broadcast message ended."""

    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot: marked, skipped from now on
    FAILED = "failed"  # anything else final (chat gone, bad request)


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Send the same message again after `seconds` (429 when `rate_limited`, else transient)."""

    seconds: float
    rate_limited: bool = True


class ChatSender(Protocol):
    """Sends one text to one chat; never raises for Telegram's answers."""

    async def send_text(self, chat_id: int, text: str) -> Delivery | RetryLater:
        """Send and say how it went."""
        ...


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """Counters of a running or finished broadcast."""

    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    waits: int = 0
    finished: bool = False
    stopped: bool = False

    @property
    def done(self) -> int:
        """Return how many recipients were handled."""
        return self.sent + self.blocked + self.failed


class ProgressSink(Protocol):
    """Shows a broadcast's progress (the bot edits a message); never raises."""

    async def show(self, progress: BroadcastProgress) -> None:
        """Show the counters."""
        ...


class TokenBucket:
    """Pace calls to `rate` a second with bursts of at most `burst`; `pause` holds everything.

    Telegram's limit is per bot, so a 429 pauses the whole bucket for `retry_after`, not just
    the chat that got it. Time and sleep are injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        """Start full."""
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._monotonic = monotonic
        self._sleep = sleep
        self._stamp = monotonic()
        self._paused_until = 0.0

    async def acquire(self) -> None:
        """Wait for a token."""
        while True:
            now = self._monotonic()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                continue
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            # The tolerance absorbs float rounding, which could otherwise ask for sleeps too
            # short to move a clock and spin here.
            if self._tokens >= 1.0 - TOKEN_TOLERANCE:
                self._tokens = max(0.0, self._tokens - 1.0)
                return
            await self._sleep((1.0 - self._tokens) / self._rate)

    def pause(self, seconds: float) -> None:
        """Hold every call for `seconds` and restart slowly (no burst right after a 429)."""
        until = self._monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self._stamp = until
            self._tokens = 0.0


async def send_broadcast(
    recipients: Sequence[int],
    text: str,
    *,
    sender: ChatSender,
    progress: ProgressSink,
    bucket: TokenBucket,
    stop: asyncio.Event,
    on_blocked: Callable[[int], Awaitable[None]],
    stop_requested: Callable[[], Awaitable[bool]] | None = None,
    on_finish: Callable[[BroadcastProgress], Awaitable[None]] | None = None,
    tick_every: int = 25,
    tick_seconds: float = 2.0,
    transient_retries: int = 3,
    monotonic: Callable[[], float] = time.monotonic,
) -> BroadcastProgress:
    """Send `text` to every recipient, paced by `bucket`, and return the final counters.

    A 429 pauses the bucket for `retry_after` and the SAME recipient is tried again, as often as
    it takes: a rate limit never loses a message. Transient failures (network) are retried a few
    times, then counted failed. Progress is shown every `tick_every` recipients or
    `tick_seconds`, whichever comes first, and at the end. Setting `stop` (or `stop_requested`
    answering True at a tick, for a stop pressed on another instance) ends the loop after the
    message being sent. `on_finish` records the outcome before the final progress is shown.
    """
    state = BroadcastProgress(total=len(recipients))
    shown_done, shown_at = 0, monotonic()
    for chat_id in recipients:
        if stop.is_set():
            break
        transient = 0
        outcome: Delivery | None = None
        while outcome is None:
            await bucket.acquire()
            answer = await sender.send_text(chat_id, text)
            if isinstance(answer, Delivery):
                outcome = answer
                break
            bucket.pause(answer.seconds)
            state = replace(state, waits=state.waits + 1)
            if not answer.rate_limited:
                transient += 1
                if transient > transient_retries:
                    outcome = Delivery.FAILED
            if outcome is None and stop.is_set():
                break
        if outcome is None:
            break
        if outcome is Delivery.SENT:
            state = replace(state, sent=state.sent + 1)
        elif outcome is Delivery.BLOCKED:
            state = replace(state, blocked=state.blocked + 1)
            await on_blocked(chat_id)
        else:
            state = replace(state, failed=state.failed + 1)
        if state.done - shown_done >= tick_every or monotonic() - shown_at >= tick_seconds:
            if stop_requested is not None and await stop_requested():
                stop.set()
            if state.done < state.total:
                await progress.show(state)
            shown_done, shown_at = state.done, monotonic()
    final = replace(state, finished=True, stopped=state.done < state.total)
    if on_finish is not None:
        await on_finish(final)
    await progress.show(final)
    return final


# ---- helpers --------------------------------------------------------------------------------


def _aware(value: Any) -> datetime | None:
    """Return an aware UTC datetime from an aggregate (SQLite hands those back as text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)  # noqa: S101 - driver contract
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _name(user: User | None, user_id: str) -> str:
    if user is None:
        return user_id
    parts = [p for p in (user.first_name, user.last_name) if p]
    if user.username:
        parts.append(f"@{user.username}")
    return " ".join(parts) or user_id


def removed_days(days: int, refunded: Decimal, amount: Decimal) -> int:
    """Return the days a refund of `refunded` out of `amount` takes from `days` (half up)."""
    if amount <= 0 or refunded <= 0:
        return 0
    share = min(refunded, amount) / amount
    return int((Decimal(days) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def csv_cell(value: object) -> str:
    """Render a CSV cell; text a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return wire(value)
    text = str(value)
    return f"'{text}" if text.startswith(CSV_FORMULA_STARTS) else text


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


# ---- the console ----------------------------------------------------------------------------


class AdminConsole:
    """Everything the admin commands do, as use-cases."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: PaymentGateway,
        notifier: CustomerNotifier,
        catalog: Catalog,
        clock: Clock,
        tz: ZoneInfo,
        test_user_ids: frozenset[str],
        fallback_email_domain: str = "burlive.ru",
    ) -> None:
        """Keep the collaborators; the domain makes refund receipts' fallback e-mail."""
        self._fallback_email_domain = fallback_email_domain
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._notifier = notifier
        self._catalog = catalog
        self._clock = clock
        self._tz = tz
        self._test_ids = test_user_ids

    # ---- audit ----------------------------------------------------------------------------

    async def _audit(
        self,
        admin_id: int,
        action: str,
        target: str | None,
        args: dict[str, Any],
        result: str,
        session: AsyncSession | None = None,
    ) -> int:
        """Write an audit row, in the caller's transaction when it has one."""
        if session is not None:
            entry = await audit_repo.record(
                session,
                admin_id=admin_id,
                action=action,
                target=target,
                args=args,
                result=result,
                at=self._clock.now(),
            )
            return entry.id
        async with self._sessionmaker.begin() as own:
            return await self._audit(admin_id, action, target, args, result, own)

    async def _refuse(
        self, admin_id: int, action: str, target: str | None, args: dict[str, Any], refusal: Refusal
    ) -> NoReturn:
        """Record a refused action and raise the refusal."""
        await self._audit(admin_id, action, target, args, f"refused: {refusal.note}")
        raise refusal

    # ---- figures --------------------------------------------------------------------------

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
                        Payment.kind, Payment.amount, Payment.captured_at, Payment.created_at
                    ).where(
                        Payment.status == PaymentStatus.SUCCEEDED,
                        Payment.is_test.is_(False),
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
                    .where(Refund.applied_at >= since, Payment.is_test.is_(False))
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

        payments = [(kind, amount, captured or created) for kind, amount, captured, created in paid]
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
        )
        await self._audit(
            admin_id,
            "stats",
            None,
            {},
            f"30 days: revenue {wire(stats.month.revenue)}, {stats.month.paid_orders} orders",
        )
        return stats

    # ---- payment look-up ------------------------------------------------------------------

    @staticmethod
    async def _find(session: AsyncSession, query: str) -> Payment | None:
        """Find a payment by our id, YooKassa's id or its order id."""
        query = query.strip()
        if not query or len(query) > 64:
            return None
        payment = await payments_repo.get_payment(session, query)
        if payment is None:
            payment = await payments_repo.get_by_provider_id(session, query)
        if payment is None:
            result = await session.execute(
                select(Payment)
                .where(Payment.order_id == query)
                .order_by(Payment.created_at.desc())
                .limit(1)
            )
            payment = result.scalar_one_or_none()
        if payment is not None:
            await session.refresh(payment)
        return payment

    async def payment(self, admin_id: int, query: str) -> PaymentDetails:
        """Return a payment (by our id, YooKassa's or the order's) with everything about it."""
        async with self._sessionmaker() as session:
            payment = await self._find(session, query)
            if payment is not None:
                details = await self._details(session, payment)
        if payment is None:
            await self._refuse(
                admin_id,
                "payment",
                query[:64],
                {"query": query},
                Refusal("payment_not_found", f"no payment {query!r}", query=query),
            )
        await self._audit(admin_id, "payment", payment.id, {"query": query}, "shown")
        return details

    async def _details(self, session: AsyncSession, payment: Payment) -> PaymentDetails:
        user = await session.get(User, payment.user_id)
        events = await payments_repo.events_of(session, payment.id)
        tickets = await tickets_repo.of_payment(session, payment.id)
        refunds = await refunds_repo.of_payment(session, payment.id)
        audit = await audit_repo.for_target(
            session, payment.id, exclude=("payment",), limit=AUDIT_SHOWN
        )
        period_view = None
        period = (
            await session.execute(
                select(SubscriptionPeriod).where(SubscriptionPeriod.payment_id == payment.id)
            )
        ).scalar_one_or_none()
        if period is not None:
            subscription = await session.get(Subscription, period.subscription_id)
            period_view = PeriodView(
                days=period.days,
                starts_at=period.starts_at,
                ends_at=period.ends_at,
                subscription_status=subscription.status if subscription else None,
                subscription_expires_at=subscription.expires_at if subscription else None,
            )
        return PaymentDetails(
            payment=PaymentView(
                id=payment.id,
                provider_id=payment.provider_id,
                kind=payment.kind,
                status=payment.status,
                cancel_reason=payment.cancel_reason,
                user_id=payment.user_id,
                user_name=_name(user, payment.user_id),
                order_id=payment.order_id,
                plan_code=payment.plan_code,
                cohort=payment.cohort,
                amount=payment.amount,
                refunded_amount=payment.refunded_amount,
                is_test=payment.is_test,
                description=payment.description,
                customer_email=payment.customer_email,
                created_at=payment.created_at,
                captured_at=payment.captured_at,
            ),
            events=tuple(
                EventView(e.created_at, e.source, e.event, e.status_before, e.status_after)
                for e in events[-EVENTS_SHOWN:]
            ),
            events_total=len(events),
            tickets=tuple(
                TicketLine(
                    t.code, t.ticket_type, t.visit_date, t.slot_time, t.status, t.checked_in_at
                )
                for t in tickets
            ),
            period=period_view,
            refunds=tuple(
                RefundView(r.id, r.amount, r.status, r.provider_id, r.requested_by, r.created_at)
                for r in refunds
            ),
            audit=tuple(AuditView(a.created_at, a.admin_id, a.action, a.result) for a in audit),
        )

    # ---- refunds --------------------------------------------------------------------------

    async def refund(
        self, admin_id: int, query: str, amount: Decimal | None = None
    ) -> RefundResult:
        """Refund all that is left of a payment, or `amount` of it, through YooKassa.

        See the module docstring for the rules on tickets and subscriptions. An earlier refund
        of the same payment that YooKassa left unanswered is asked again first, with its own
        key; one that may still be on its way (another admin's, right now) is refused.
        """
        args: dict[str, Any] = {"query": query, "amount": wire(amount) if amount else None}
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            prepared = await self._prepare_refund(session, admin_id, query, amount, now)
        if isinstance(prepared, Refusal):
            await self._refuse(admin_id, "refund", query[:64], args, prepared)
        payment_id, provider_id, row_id, want, key, retried, receipt = prepared
        try:
            # The receipt is built the same way on a retry, so the retried body is the same.
            remote = await self._gateway.create_refund(provider_id, want, key, receipt=receipt)
        except GatewayUnavailable as exc:
            log.warning("refund %s of %s: YooKassa did not answer: %s", row_id, payment_id, exc)
            async with self._sessionmaker.begin() as session:
                payments_repo.add_event(
                    session,
                    payment_id=payment_id,
                    provider_id=provider_id,
                    source="admin",
                    event="refund_unanswered",
                    detail={"refund": row_id, "error": str(exc)[:300]},
                    at=self._clock.now(),
                )
            await self._audit(
                admin_id,
                "refund",
                payment_id,
                args,
                f"refund #{row_id} of {wire(want)}: no answer from YooKassa; kept pending",
            )
            return await self._refund_result(payment_id, row_id, RefundState.UNANSWERED, retried)
        except GatewayRejected as exc:
            async with self._sessionmaker.begin() as session:
                if await refunds_repo.cancel(session, row_id):
                    await refunds_repo.unreserve(session, payment_id, want)
                payments_repo.add_event(
                    session,
                    payment_id=payment_id,
                    provider_id=provider_id,
                    source="admin",
                    event="refund_rejected",
                    detail={"refund": row_id, "error": str(exc)[:300]},
                    at=self._clock.now(),
                )
            await self._refuse(
                admin_id,
                "refund",
                payment_id,
                args,
                Refusal(
                    "refund_rejected",
                    f"YooKassa refused refund #{row_id}: {exc}",
                    error=exc.description or exc.code,
                ),
            )
        applied = await self.apply_refund(remote, source="admin", refund_id=row_id)
        state = {
            "succeeded": RefundState.SUCCEEDED,
            "canceled": RefundState.CANCELED,
        }.get(remote.status, RefundState.PENDING)
        result = await self._refund_result(payment_id, row_id, state, retried)
        await self._audit(
            admin_id,
            "refund",
            payment_id,
            args,
            f"refund #{row_id} of {wire(want)} {state.value} ({applied.outcome.value}); "
            f"refunded {wire(result.refunded_total)} of {wire(result.payment_amount)}",
        )
        return result

    async def _prepare_refund(
        self,
        session: AsyncSession,
        admin_id: int,
        query: str,
        amount: Decimal | None,
        now: datetime,
    ) -> Refusal | tuple[str, str, int, Decimal, str, bool, Receipt]:
        """Reserve the amount and write the pending refund row (or find the unanswered one).

        Also build the refund's receipt from the one the payment was sold with (54-FZ).
        """
        payment = await self._find(session, query)
        if payment is None:
            return Refusal("payment_not_found", f"no payment {query!r}", query=query)
        if payment.status != PaymentStatus.SUCCEEDED or payment.provider_id is None:
            return Refusal(
                "refund_not_paid",
                f"payment {payment.id} is {payment.status}",
                payment_id=payment.id,
                status=payment.status,
            )
        if amount is not None and amount <= 0:
            return Refusal("refund_bad_amount", "amount must be positive", payment_id=payment.id)
        waiting = await refunds_repo.unanswered(session, payment.id)
        if waiting is not None:
            gave_up = any(
                e.event == "refund_unanswered" and (e.detail or {}).get("refund") == waiting.id
                for e in await payments_repo.events_of(session, payment.id)
            )
            if not gave_up and now - waiting.created_at < REFUND_IN_FLIGHT:
                return Refusal(
                    "refund_in_progress",
                    f"refund #{waiting.id} of {wire(waiting.amount)} is being made right now",
                    payment_id=payment.id,
                    amount=waiting.amount,
                )
            if amount is not None and amount != waiting.amount:
                return Refusal(
                    "refund_unanswered",
                    f"refund #{waiting.id} of {wire(waiting.amount)} is still unanswered",
                    payment_id=payment.id,
                    amount=waiting.amount,
                )
            return (
                payment.id,
                payment.provider_id,
                waiting.id,
                waiting.amount,
                waiting.idempotence_key,
                True,
                await self._refund_receipt(session, payment, waiting.amount),
            )
        left = payment.amount - payment.refunded_amount
        if left <= 0:
            return Refusal(
                "refund_nothing_left",
                f"{wire(payment.refunded_amount)} of {wire(payment.amount)} already refunded",
                payment_id=payment.id,
                refunded=payment.refunded_amount,
                total=payment.amount,
            )
        want = left if amount is None else amount
        if want > left or not await refunds_repo.reserve(session, payment.id, want):
            return Refusal(
                "refund_too_much",
                f"asked {wire(want)}, only {wire(left)} of {wire(payment.amount)} is left",
                payment_id=payment.id,
                requested=want,
                left=left,
                total=payment.amount,
            )
        key = f"{payment.id}-refund-{secrets.token_hex(8)}"
        row = Refund(
            payment_id=payment.id,
            idempotence_key=key,
            amount=want,
            status="pending",
            requested_by=admin_id,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        payments_repo.add_event(
            session,
            payment_id=payment.id,
            provider_id=payment.provider_id,
            source="admin",
            event="refund_requested",
            detail={"refund": row.id, "amount": wire(want), "by": admin_id},
            at=now,
        )
        receipt = await self._refund_receipt(session, payment, want)
        return payment.id, payment.provider_id, row.id, want, key, False, receipt

    async def _refund_receipt(
        self, session: AsyncSession, payment: Payment, amount: Decimal
    ) -> Receipt:
        """Return the receipt of a refund of `amount`: the sold lines, or a share of each."""
        sold = await receipt_of(session, payment, self._catalog, self._fallback_email_domain)
        return refund_receipt(sold, amount)

    async def _refund_result(
        self, payment_id: str, refund_id: int, state: RefundState, retried: bool
    ) -> RefundResult:
        """Read back what a refund left behind (whichever path applied it)."""
        async with self._sessionmaker() as session:
            payment = await payments_repo.get_payment(session, payment_id)
            assert payment is not None  # noqa: S101 - it was found moments ago
            await session.refresh(payment)
            row = await refunds_repo.get_refund(session, refund_id)
            tickets = await tickets_repo.of_payment(session, payment_id)
            subscription = await get_subscription(session, payment.user_id)
        return RefundResult(
            payment_id=payment_id,
            kind=payment.kind,
            refund_id=refund_id,
            amount=row.amount if row else ZERO,
            state=state,
            refunded_total=payment.refunded_amount,
            payment_amount=payment.amount,
            tickets_refunded=sum(1 for t in tickets if t.status == TicketStatus.REFUNDED),
            tickets_total=len(tickets),
            subscription_expires_at=subscription.expires_at
            if subscription and payment.kind == PaymentKind.SUBSCRIPTION
            else None,
            subscription_active=subscription is not None
            and subscription.status == "active"
            and subscription.expires_at > self._clock.now(),
            retried=retried,
        )

    async def apply_refund(
        self, remote: ProviderRefund, *, source: str, refund_id: int | None = None
    ) -> RefundApplied:
        """Apply a refund as fetched from YooKassa, once; the webhook calls this too.

        Our row is found by YooKassa's refund id, else it is the row `refund_id` (the admin
        flow), else our unanswered row of that payment and amount (a notification that beat
        the admin flow). A succeeded refund nobody here asked for (made in YooKassa's dashboard)
        is recorded and applied like ours.
        """
        now = self._clock.now()
        note: RefundMade | None = None
        async with self._sessionmaker.begin() as session:
            row = await self._claim(session, remote, refund_id, now)
            if row is None:
                outcome = RefundOutcome.UNKNOWN
            elif remote.status == "succeeded":
                if await refunds_repo.settle(session, row.id, now):
                    note = await self._refund_effects(session, row, source, now)
                    outcome = RefundOutcome.APPLIED
                else:
                    outcome = RefundOutcome.ALREADY
            elif remote.status == "canceled":
                outcome = RefundOutcome.ALREADY
                if await refunds_repo.cancel(session, row.id):
                    await refunds_repo.unreserve(session, row.payment_id, row.amount)
                    outcome = RefundOutcome.CANCELED
                    payments_repo.add_event(
                        session,
                        payment_id=row.payment_id,
                        provider_id=remote.payment_id,
                        source=source,
                        event="refund_canceled",
                        detail={"refund": row.id, "amount": wire(row.amount)},
                        at=now,
                    )
            else:
                outcome = RefundOutcome.PENDING
        if row is None:
            log.info("refund %s of YooKassa payment %s is not ours", remote.id, remote.payment_id)
            return RefundApplied(RefundOutcome.UNKNOWN)
        if note is not None:
            log.info("refund #%s of %s applied (%s)", row.id, row.payment_id, source)
            try:
                await self._notifier.refund_made(note)
            except Exception:
                log.exception("refund #%s: telling the customer failed", row.id)
        return RefundApplied(outcome, row.id, row.payment_id)

    async def _claim(
        self, session: AsyncSession, remote: ProviderRefund, refund_id: int | None, now: datetime
    ) -> Refund | None:
        row = await refunds_repo.by_provider_id(session, remote.id)
        if row is not None:
            return row
        if refund_id is not None:
            if await refunds_repo.claim(session, refund_id, remote.id):
                return await refunds_repo.get_refund(session, refund_id)
            log.error("refund #%s is tied to another YooKassa refund than %s", refund_id, remote.id)
            return None
        payment = await payments_repo.get_by_provider_id(session, remote.payment_id)
        if payment is None:
            return None
        row = await refunds_repo.claim_matching(session, payment.id, remote.amount, remote.id)
        if row is not None or remote.status != "succeeded":
            return row
        if not await refunds_repo.reserve(session, payment.id, remote.amount):
            log.error(
                "YooKassa refund %s of %s exceeds what is left of payment %s; not applied",
                remote.id,
                wire(remote.amount),
                payment.id,
            )
            return None
        row = Refund(
            payment_id=payment.id,
            provider_id=remote.id,
            idempotence_key=f"external-{remote.id}"[:64],
            amount=remote.amount,
            status="pending",
            requested_by=None,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        log.warning(
            "refund %s of payment %s was made outside the bot; recorded", remote.id, payment.id
        )
        return row

    async def _refund_effects(
        self, session: AsyncSession, row: Refund, source: str, now: datetime
    ) -> RefundMade:
        """Mark tickets, return seats or shorten the subscription for an applied refund."""
        payment = await payments_repo.get_payment(session, row.payment_id)
        assert payment is not None  # noqa: S101 - refunds belong to payments
        await session.refresh(payment)
        applied = await refunds_repo.applied_total(session, payment.id)
        full = applied >= payment.amount
        user = await session.get(User, payment.user_id)
        recipient = Recipient(payment.user_id, user.language if user else "ru")
        detail: dict[str, Any] = {
            "refund": row.id,
            "amount": wire(row.amount),
            "applied_total": wire(applied),
            "full": full,
        }
        note = RefundMade(recipient, payment.id, payment.kind, row.amount, full)
        if payment.kind == PaymentKind.TICKETS and payment.order_id is not None:
            count = await tickets_repo.refund_valid(session, payment.id) if full else 0
            released = 0
            if full and await tickets_repo.close_refunded_order(session, payment.order_id):
                order = await session.get(Order, payment.order_id)
                if order is not None and count and self._slot_ahead(order, now):
                    if await inventory.release_seats(
                        session, order.visit_date, order.slot_time, count
                    ):
                        released = count
                    else:
                        log.warning("order %s: seats to release were not held", order.id)
            detail.update(tickets_refunded=count, seats_released=released)
            note = replace(note, order_id=payment.order_id, tickets_refunded=count)
        elif payment.kind == PaymentKind.SUBSCRIPTION:
            expires_at, ended, removed = await self._shorten(
                session, payment, applied - row.amount, applied, now
            )
            detail.update(days_removed=removed)
            note = replace(note, expires_at=expires_at, subscription_ended=ended)
        payments_repo.add_event(
            session,
            payment_id=payment.id,
            provider_id=row.provider_id,
            source=source,
            event="refund_succeeded",
            status_before=payment.status,
            status_after=payment.status,
            detail=detail,
            at=now,
        )
        return note

    def _slot_ahead(self, order: Order, now: datetime) -> bool:
        start = datetime.combine(
            order.visit_date, day_time.fromisoformat(order.slot_time), tzinfo=self._tz
        )
        return start > now

    async def _shorten(
        self,
        session: AsyncSession,
        payment: Payment,
        before: Decimal,
        after: Decimal,
        now: datetime,
    ) -> tuple[datetime | None, bool, int]:
        """Take the refunded share of a payment's days off the end of the subscription."""
        period = (
            await session.execute(
                select(SubscriptionPeriod).where(SubscriptionPeriod.payment_id == payment.id)
            )
        ).scalar_one_or_none()
        if period is None:
            return None, False, 0
        subscription = (
            await session.execute(
                select(Subscription)
                .where(Subscription.id == period.subscription_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if subscription is None:
            return None, False, 0
        removed = removed_days(period.days, after, payment.amount) - removed_days(
            period.days, before, payment.amount
        )
        running = subscription.status == "active" and subscription.expires_at > now
        if removed <= 0 or not running:
            return subscription.expires_at, not running, 0
        old = subscription.expires_at
        new = max(old - timedelta(days=removed), now, subscription.starts_at)
        ended = new <= now
        await session.execute(
            update(Subscription)
            .where(Subscription.id == subscription.id, Subscription.expires_at == old)
            .values(expires_at=new, status="expired" if ended else "active", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return new, ended, removed

    # ---- grants and prices ----------------------------------------------------------------

    async def grant(self, admin_id: int, user_id: str, days: int) -> GrantResult:
        """Give a user `days` of subscription, from the later of now and their expiry."""
        args: dict[str, Any] = {"user_id": user_id, "days": days}
        if not 0 < days <= MAX_GRANT_DAYS:
            await self._refuse(
                admin_id,
                "grant",
                user_id[:64],
                args,
                Refusal("grant_days", f"days must be 1..{MAX_GRANT_DAYS}", max=MAX_GRANT_DAYS),
            )
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            user = await get_user(session, user_id)
            if user is not None:
                current = await get_subscription(session, user_id)
                plan_code = current.plan_code if current else self._catalog.plans[0].code
                extension = await extend_subscription(
                    session,
                    user_id=user_id,
                    plan_code=plan_code,
                    days=days,
                    now=now,
                    granted_by=admin_id,
                )
                language = user.language
                await self._audit(
                    admin_id,
                    "grant",
                    user_id,
                    args,
                    f"granted {days} days; expires {extension.expires_at.isoformat()}",
                    session,
                )
        if user is None:
            await self._refuse(
                admin_id,
                "grant",
                user_id[:64],
                args,
                Refusal("user_not_found", f"no user {user_id!r}", user_id=user_id),
            )
        note = SubscriptionActivated(
            recipient=Recipient(user_id, language),
            plan_code=plan_code,
            days=days,
            expires_at=extension.expires_at,
            amount=None,
        )
        try:
            await self._notifier.subscription_activated(note)
        except Exception:
            log.exception("grant to %s: telling the customer failed", user_id)
        return GrantResult(user_id, days, extension.expires_at)

    async def _price_list(self, session: AsyncSession) -> PriceList:
        overrides = await price_overrides(session)
        plans = []
        for plan in self._catalog.plans:
            cohorts = []
            for cohort in SETTABLE_COHORTS:
                if (cohort.value, plan.code) in overrides:
                    source = "override"
                elif self._catalog.cohort_price(cohort, plan.code) is not None:
                    source = "catalog"
                else:
                    source = "base"
                amount = plan_price(self._catalog, plan, cohort, overrides)
                cohorts.append(CohortPriceView(cohort.value, amount, source))
            plans.append(PlanPrices(plan.code, plan.days, plan.price, tuple(cohorts)))
        return PriceList(tuple(plans), self._catalog.shop.test_price)

    async def prices(self, admin_id: int) -> PriceList:
        """Return every plan's price per cohort, with the admins' overrides applied."""
        async with self._sessionmaker() as session:
            prices = await self._price_list(session)
        await self._audit(admin_id, "prices", None, {}, "shown")
        return prices

    async def set_price(
        self, admin_id: int, cohort: str, plan_code: str, amount: Decimal
    ) -> PriceChange:
        """Set a plan's price for a cohort; the next checkout of that cohort pays it."""
        args: dict[str, Any] = {"cohort": cohort, "plan": plan_code, "amount": wire(amount)}
        target = f"{cohort}/{plan_code}"[:64]
        cohorts = [c.value for c in SETTABLE_COHORTS]
        plan = self._catalog.plan(plan_code)
        refusal = None
        if cohort not in cohorts:
            refusal = Refusal(
                "unknown_cohort", f"no cohort {cohort!r}", cohort=cohort, cohorts=", ".join(cohorts)
            )
        elif plan is None:
            plans = ", ".join(p.code for p in self._catalog.plans)
            refusal = Refusal("unknown_plan", f"no plan {plan_code!r}", plan=plan_code, plans=plans)
        elif amount <= 0 or amount > MAX_PRICE or amount.as_tuple().exponent != -2:
            refusal = Refusal("bad_price", f"bad amount {amount}", max=MAX_PRICE)
        if refusal is not None:
            await self._refuse(admin_id, "setprice", target, args, refusal)
        assert plan is not None  # noqa: S101 - refused above otherwise
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            before = await self._price_list(session)
            old = next(
                c.amount
                for p in before.plans
                if p.code == plan_code
                for c in p.cohorts
                if c.cohort == cohort
            )
            stmt = insert_for(session, CohortPrice).values(
                cohort=cohort,
                plan_code=plan_code,
                amount=amount,
                updated_at=now,
                updated_by=admin_id,
            )
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[CohortPrice.cohort, CohortPrice.plan_code],
                    set_={"amount": amount, "updated_at": now, "updated_by": admin_id},
                )
            )
            await self._audit(
                admin_id, "setprice", target, args, f"{wire(old)} -> {wire(amount)}", session
            )
        return PriceChange(cohort, plan_code, old, amount)

    # ---- capacity and check-in ------------------------------------------------------------

    async def set_capacity(
        self, admin_id: int, visit_date: date, slot_time: str, seats: int
    ) -> CapacityResult:
        """Set a slot's capacity, unless fewer seats than are already held or sold."""
        args: dict[str, Any] = {"date": visit_date.isoformat(), "time": slot_time, "seats": seats}
        target = f"{visit_date.isoformat()} {slot_time}"
        tickets = self._catalog.tickets
        today = self._clock.now().astimezone(self._tz).date()
        refusal = None
        if slot_time not in tickets.slots:
            refusal = Refusal(
                "unknown_slot",
                f"no slot {slot_time}",
                time=slot_time,
                slots=", ".join(tickets.slots),
            )
        elif visit_date < today:
            refusal = Refusal("date_past", "the date is in the past", date=visit_date)
        elif not 0 <= seats <= MAX_CAPACITY:
            refusal = Refusal("bad_seats", f"seats must be 0..{MAX_CAPACITY}", max=MAX_CAPACITY)
        if refusal is not None:
            await self._refuse(admin_id, "capacity", target, args, refusal)
        async with self._sessionmaker.begin() as session:
            done, taken = await inventory.set_capacity(
                session, visit_date, slot_time, seats, tickets.capacity_per_slot
            )
            sold, on_hold = await self._taken(session, visit_date, slot_time)
            result = CapacityResult(visit_date, slot_time, seats, taken, sold, on_hold)
            if done:
                await self._audit(
                    admin_id, "capacity", target, args, f"capacity {seats}, {taken} taken", session
                )
        if not done:
            await self._refuse(
                admin_id,
                "capacity",
                target,
                args,
                Refusal(
                    "capacity_below",
                    f"{taken} seats are taken ({sold} sold, {on_hold} on hold)",
                    seats=seats,
                    taken=taken,
                    sold=sold,
                    on_hold=on_hold,
                ),
            )
        return result

    @staticmethod
    async def _taken(session: AsyncSession, visit_date: date, slot_time: str) -> tuple[int, int]:
        """Return (sold, on hold) seats of a slot, from the orders that hold them."""
        rows = (
            await session.execute(
                select(Order.status, func.sum(Order.seats))
                .where(
                    Order.visit_date == visit_date,
                    Order.slot_time == slot_time,
                    Order.seats_held.is_(True),
                )
                .group_by(Order.status)
            )
        ).all()
        counts = {status: int(total or 0) for status, total in rows}
        sold = counts.pop("paid", 0)
        return sold, sum(counts.values())

    async def check_in(self, admin_id: int, code: str) -> CheckIn:
        """Let a ticket in: valid, for today (shop time zone), and only once."""
        code = code.strip()
        args: dict[str, Any] = {"code": code}
        now = self._clock.now()
        today = now.astimezone(self._tz).date()
        refusal: Refusal | None = None
        async with self._sessionmaker.begin() as session:
            done = bool(code) and await tickets_repo.check_in(
                session, code, visit_date=today, now=now, by=admin_id
            )
            ticket = await tickets_repo.by_code(session, code) if code else None
            if ticket is None:
                refusal = Refusal("ticket_not_found", "no such ticket", code=code)
            elif await tickets_repo.is_test(session, ticket):
                refusal = Refusal("ticket_test", "a test ticket", code=ticket.code)
            elif not done:
                refusal = self._check_in_refusal(ticket)
            else:
                user = await session.get(User, ticket.user_id)
                result = CheckIn(
                    code=ticket.code,
                    ticket_type=ticket.ticket_type,
                    visit_date=ticket.visit_date,
                    slot_time=ticket.slot_time,
                    order_id=ticket.order_id,
                    user_id=ticket.user_id,
                    user_name=_name(user, ticket.user_id),
                    checked_in_at=now,
                )
                await self._audit(
                    admin_id,
                    "checkin",
                    code[:64],
                    args,
                    f"let in: order {ticket.order_id}",
                    session,
                )
        if refusal is not None:
            await self._refuse(admin_id, "checkin", code[:64], args, refusal)
        return result

    @staticmethod
    def _check_in_refusal(ticket: Ticket) -> Refusal:
        if ticket.status == TicketStatus.USED:
            return Refusal(
                "ticket_used",
                f"already checked in at {ticket.checked_in_at}",
                at=ticket.checked_in_at,
                by=ticket.checked_in_by,
            )
        if ticket.status == TicketStatus.REFUNDED:
            return Refusal("ticket_refunded", "the ticket was refunded")
        return Refusal(
            "ticket_other_day",
            f"the ticket is for {ticket.visit_date.isoformat()}",
            date=ticket.visit_date,
            time=ticket.slot_time,
        )

    # ---- export ---------------------------------------------------------------------------

    async def export(self, admin_id: int, days: int) -> ExportFiles:
        """Return the payments and audit rows of the last `days` days as CSV files."""
        args: dict[str, Any] = {"days": days}
        if not 0 < days <= MAX_EXPORT_DAYS:
            await self._refuse(
                admin_id,
                "export",
                None,
                args,
                Refusal("export_days", f"days must be 1..{MAX_EXPORT_DAYS}", max=MAX_EXPORT_DAYS),
            )
        now = self._clock.now()
        since = now - timedelta(days=days)
        async with self._sessionmaker() as session:
            payments = list(
                (
                    await session.execute(
                        select(Payment)
                        .where(Payment.created_at >= since)
                        .order_by(Payment.created_at)
                    )
                ).scalars()
            )
            audit = await audit_repo.since(session, since)

        def moment(value: datetime | None) -> str | None:
            return value.astimezone(self._tz).isoformat(timespec="seconds") if value else None

        payments_csv = _csv(
            (
                "payment_id",
                "provider_id",
                "created_at",
                "captured_at",
                "status",
                "cancel_reason",
                "kind",
                "user_id",
                "order_id",
                "plan_code",
                "cohort",
                "amount",
                "refunded_amount",
                "currency",
                "is_test",
                "source",
                "payment_method",
                "description",
                "customer_email",
                "customer_phone",
            ),
            [
                (
                    p.id,
                    p.provider_id,
                    moment(p.created_at),
                    moment(p.captured_at),
                    p.status,
                    p.cancel_reason,
                    p.kind,
                    p.user_id,
                    p.order_id,
                    p.plan_code,
                    p.cohort,
                    p.amount,
                    p.refunded_amount,
                    p.currency,
                    p.is_test,
                    p.source,
                    p.payment_method,
                    p.description,
                    p.customer_email,
                    p.customer_phone,
                )
                for p in payments
            ],
        )
        audit_csv = _csv(
            ("id", "at", "admin_id", "action", "target", "args", "result"),
            [_audit_row(a, moment(a.created_at)) for a in audit],
        )
        await self._audit(
            admin_id, "export", None, args, f"{len(payments)} payments, {len(audit)} audit rows"
        )
        return ExportFiles(days, now, payments_csv, audit_csv, len(payments), len(audit))

    # ---- broadcasts -----------------------------------------------------------------------

    async def audience(self, exclude: int | None = None) -> list[int]:
        """Return the chats a broadcast goes to: users with a Telegram id who did not block us."""
        async with self._sessionmaker() as session:
            ids = (
                await session.execute(
                    select(User.id)
                    .where(User.is_blocked.is_(False))
                    .order_by(User.created_at, User.id)
                )
            ).scalars()
            chats = [int(i) for i in ids if i.isascii() and i.isdigit()]
        return [chat for chat in chats if chat != exclude]

    async def draft_broadcast(self, admin_id: int, text: str) -> BroadcastDraft:
        """Record a broadcast awaiting confirmation; the sender is not among its recipients."""
        recipients = len(await self.audience(exclude=admin_id))
        draft_id = await self._audit(
            admin_id,
            "broadcast",
            None,
            {"text": text, "recipients": recipients},
            BROADCAST_DRAFT,
        )
        return BroadcastDraft(draft_id, recipients, text)

    async def _move_broadcast(
        self, admin_id: int, draft_id: int, action: str, from_results: Sequence[str], to: str
    ) -> bool:
        async with self._sessionmaker.begin() as session:
            moved = await audit_repo.move_result(
                session, draft_id, action="broadcast", from_results=from_results, to=to
            )
            await self._audit(
                admin_id,
                action,
                f"broadcast:{draft_id}",
                {"broadcast": draft_id},
                "done" if moved else "refused: not in a state for it",
                session,
            )
        return moved

    async def confirm_broadcast(self, admin_id: int, draft_id: int) -> BroadcastDraft | None:
        """Confirm a draft, once (two presses, two admins, two instances: one send)."""
        if not await self._move_broadcast(
            admin_id, draft_id, "broadcast_send", (BROADCAST_DRAFT,), BROADCAST_SENDING
        ):
            return None
        async with self._sessionmaker() as session:
            entry = await audit_repo.get_entry(session, draft_id)
        assert entry is not None  # noqa: S101 - it just moved
        return BroadcastDraft(draft_id, int(entry.args.get("recipients", 0)), entry.args["text"])

    async def cancel_broadcast(self, admin_id: int, draft_id: int) -> bool:
        """Drop a draft that was not sent."""
        return await self._move_broadcast(
            admin_id, draft_id, "broadcast_cancel", (BROADCAST_DRAFT,), BROADCAST_CANCELED
        )

    async def request_stop(self, admin_id: int, draft_id: int) -> bool:
        """Ask a running broadcast to stop (seen by whichever instance runs it)."""
        return await self._move_broadcast(
            admin_id, draft_id, "broadcast_stop", (BROADCAST_SENDING,), BROADCAST_STOPPING
        )

    async def run_broadcast(
        self,
        draft_id: int,
        *,
        sender: ChatSender,
        progress: ProgressSink,
        stop: asyncio.Event,
        bucket: TokenBucket,
    ) -> BroadcastProgress:
        """Send a confirmed broadcast to its audience now; record the outcome on its row."""
        async with self._sessionmaker() as session:
            entry = await audit_repo.get_entry(session, draft_id)
        if entry is None or entry.action != "broadcast":
            raise LookupError(f"no broadcast {draft_id}")
        recipients = await self.audience(exclude=entry.admin_id)

        async def on_blocked(chat_id: int) -> None:
            async with self._sessionmaker.begin() as session:
                await mark_blocked(session, str(chat_id))

        async def stop_requested() -> bool:
            async with self._sessionmaker() as session:
                row = await audit_repo.get_entry(session, draft_id)
            return row is not None and row.result == BROADCAST_STOPPING

        async def record(outcome: str) -> None:
            async with self._sessionmaker.begin() as session:
                await audit_repo.move_result(
                    session,
                    draft_id,
                    action="broadcast",
                    from_results=(BROADCAST_SENDING, BROADCAST_STOPPING),
                    to=outcome,
                )
            log.info("broadcast %s: %s", draft_id, outcome)

        async def on_finish(final: BroadcastProgress) -> None:
            await record(
                f"sent {final.sent} of {final.total}; blocked {final.blocked}; "
                f"failed {final.failed}; 429 waits {final.waits}"
                + (f"; stopped at {final.done}/{final.total}" if final.stopped else "")
            )

        try:
            return await send_broadcast(
                recipients,
                str(entry.args["text"]),
                sender=sender,
                progress=progress,
                bucket=bucket,
                stop=stop,
                on_blocked=on_blocked,
                stop_requested=stop_requested,
                on_finish=on_finish,
            )
        except BaseException:
            # Cancelled at shutdown or failed: say so, unless the outcome is already recorded.
            try:
                await asyncio.shield(record("interrupted"))
            except Exception:
                log.exception("broadcast %s: the outcome could not be recorded", draft_id)
            raise


def _audit_row(entry: AuditLog, at: str | None) -> tuple[object, ...]:
    args = ", ".join(f"{k}={v}" for k, v in sorted((entry.args or {}).items()))
    return (entry.id, at, entry.admin_id, entry.action, entry.target, args, entry.result)
