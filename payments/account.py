"""What a customer owns: their subscription and tickets, as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, Payment, Subscription, Ticket, User
from db.reader import Reader
from payments.ports import Clock, IssuedTicket
from payments.tickets.signing import TicketSigner
from payments.types import PaymentStatus, SubscriptionInfo, SubscriptionStatus

MAX_LISTED_TICKETS = 40
MAX_LISTED_UNPAID = 10


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as its owner sees it."""

    id: int
    code: str
    order_id: str
    ticket_type: str
    visit_date: date
    slot_time: str
    status: str


@dataclass(frozen=True, slots=True)
class UnpaidView:
    """A payment still waiting for its customer: what it is for, its link and its deadline."""

    payment_id: str
    kind: str
    order_id: str | None
    plan_code: str | None
    amount: Decimal
    expires_at: datetime
    confirmation_url: str
    visit_date: date | None
    slot_time: str | None


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """A customer's purchases."""

    subscription: SubscriptionInfo | None
    tickets: tuple[TicketView, ...] = ()
    unpaid: tuple[UnpaidView, ...] = ()


# The columns of a TicketView, in its field order.
TICKET_COLUMNS = (
    Ticket.id,
    Ticket.code,
    Ticket.order_id,
    Ticket.ticket_type,
    Ticket.visit_date,
    Ticket.slot_time,
    Ticket.status,
)


# A customer's subscription and coming tickets in one statement, built once: this screen is
# opened often, and building the statement (or mapped objects per row) cost more than running it.
SUMMARY = (
    select(
        Subscription.user_id,
        Subscription.plan_code,
        Subscription.status.label("sub_status"),
        Subscription.starts_at,
        Subscription.expires_at,
        *TICKET_COLUMNS,
    )
    .select_from(User)
    .outerjoin(Subscription, Subscription.user_id == User.id)
    .outerjoin(Ticket, and_(Ticket.user_id == User.id, Ticket.visit_date >= bindparam("today")))
    .where(User.id == bindparam("user_id"))
    .order_by(Ticket.visit_date, Ticket.slot_time, Ticket.id)
    .limit(MAX_LISTED_TICKETS)
)


# A customer's payments that can still be paid: pending, their link given, not yet expired.
UNPAID = (
    select(
        Payment.id,
        Payment.kind,
        Payment.order_id,
        Payment.plan_code,
        Payment.amount,
        Payment.expires_at,
        Payment.confirmation_url,
        Order.visit_date,
        Order.slot_time,
    )
    .outerjoin(Order, Order.id == Payment.order_id)
    .where(
        Payment.user_id == bindparam("user_id"),
        Payment.status == PaymentStatus.PENDING,
        Payment.confirmation_url.is_not(None),
        Payment.expires_at > bindparam("now"),
    )
    .order_by(Payment.created_at, Payment.id)
    .limit(MAX_LISTED_UNPAID)
)


def _view(ticket: Ticket) -> TicketView:
    return TicketView(
        id=ticket.id,
        code=ticket.code,
        order_id=ticket.order_id,
        ticket_type=ticket.ticket_type,
        visit_date=ticket.visit_date,
        slot_time=ticket.slot_time,
        status=ticket.status,
    )


class Account:
    """Read a customer's purchases."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        reader: Reader,
        clock: Clock,
        tz: ZoneInfo,
        signer: TicketSigner,
    ) -> None:
        """Keep the database, the clock, the shop time zone and the QR signer."""
        self._signer = signer
        self._sessionmaker = sessionmaker
        self._reader = reader
        self._clock = clock
        self._tz = tz

    def now(self) -> datetime:
        """Return the time the account's deadlines are measured against."""
        return self._clock.now()

    async def pay_message(self, user_id: str, payment_id: str) -> int | None:
        """Return the chat message carrying the pay button of one of the user's payments."""
        async with self._sessionmaker() as session:
            payment = await session.get(Payment, payment_id)
        if payment is None or payment.user_id != user_id:
            return None
        return payment.chat_message_id

    async def ticket(self, user_id: str, ticket_id: int) -> TicketView | None:
        """Return one of the user's tickets."""
        async with self._sessionmaker() as session:
            ticket = await session.get(Ticket, ticket_id)
        if ticket is None or ticket.user_id != user_id:
            return None
        return _view(ticket)

    async def issued_ticket(self, user_id: str, ticket_id: int) -> IssuedTicket | None:
        """Return one of the user's tickets with its signed QR content, to show it again."""
        async with self._sessionmaker() as session:
            row = (
                await session.execute(
                    select(Ticket, Payment.is_test)
                    .join(Payment, Payment.id == Ticket.payment_id)
                    .where(Ticket.id == ticket_id, Ticket.user_id == user_id)
                )
            ).first()
        if row is None:
            return None
        ticket, is_test = row
        qr = self._signer.content(
            ticket.code, ticket.visit_date, ticket.slot_time, ticket.ticket_type, is_test=is_test
        )
        return IssuedTicket(
            ticket.code, ticket.ticket_type, ticket.visit_date, ticket.slot_time, qr
        )

    async def summary(self, user_id: str) -> AccountSummary:
        """Return the user's subscription (a lapsed one shows as expired) and coming tickets."""
        today = self._clock.now().astimezone(self._tz).date()
        rows = await self._reader.rows(SUMMARY, {"user_id": user_id, "today": today})
        tickets = tuple(TicketView(*row[5:]) for row in rows if row.id is not None)
        subscription = None
        sub = rows[0] if rows else None
        if sub is not None and sub.user_id is not None and sub.expires_at > sub.starts_at:
            running = sub.sub_status == "active" and sub.expires_at > self._clock.now()
            subscription = SubscriptionInfo(
                user_id=sub.user_id,
                plan_code=sub.plan_code,
                status=SubscriptionStatus.ACTIVE if running else SubscriptionStatus.EXPIRED,
                starts_at=sub.starts_at,
                expires_at=sub.expires_at,
            )
        unpaid = await self._reader.rows(UNPAID, {"user_id": user_id, "now": self._clock.now()})
        return AccountSummary(
            subscription=subscription,
            tickets=tickets,
            unpaid=tuple(UnpaidView(*row) for row in unpaid),
        )
