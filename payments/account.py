"""What a customer owns: their subscription and tickets, as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, OrderItem, Payment, Ticket, User
from db.models_subscriptions import Subscription
from db.reader import Reader
from payments.ports import Clock, IssuedTicket
from payments.tickets.signing import TicketSigner
from payments.types import PaymentStatus, SubscriptionInfo, SubscriptionStatus

MAX_LISTED_TICKETS = 40
MAX_LISTED_UNPAID = 10
# The Mini App's lists: the newest orders, the tickets of the latest visits.
MAX_LISTED_ORDERS = 50
MAX_OWNED_TICKETS = 200


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


@dataclass(frozen=True, slots=True)
class OwnedTicket:
    """A ticket with its check-in, as the Mini App lists it."""

    code: str
    order_id: str
    ticket_type: str
    visit_date: date
    slot_time: str
    status: str
    checked_in_at: datetime | None
    is_test: bool


@dataclass(frozen=True, slots=True)
class OrderLineView:
    """A line of an order: a ticket type, how many, the unit price."""

    ticket_type: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class OrderPayment:
    """The latest payment of an order."""

    payment_id: str
    status: str
    expires_at: datetime
    confirmation_url: str | None


@dataclass(frozen=True, slots=True)
class OrderView:
    """A ticket order with its lines and its latest payment."""

    order_id: str
    status: str
    visit_date: date
    slot_time: str
    total: Decimal
    created_at: datetime
    lines: tuple[OrderLineView, ...]
    payment: OrderPayment | None


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


# The Mini App's reads, built once each, like the bot's.
OWNED_COLUMNS = (
    Ticket.code,
    Ticket.order_id,
    Ticket.ticket_type,
    Ticket.visit_date,
    Ticket.slot_time,
    Ticket.status,
    Ticket.checked_in_at,
    Payment.is_test,
)
OWNED = (
    select(*OWNED_COLUMNS)
    .join(Payment, Payment.id == Ticket.payment_id)
    .where(Ticket.user_id == bindparam("user_id"))
    .order_by(Ticket.visit_date.desc(), Ticket.slot_time.desc(), Ticket.id.desc())
    .limit(MAX_OWNED_TICKETS)
)
OWNED_ONE = (
    select(*OWNED_COLUMNS)
    .join(Payment, Payment.id == Ticket.payment_id)
    .where(Ticket.user_id == bindparam("user_id"), Ticket.code == bindparam("code"))
)
ORDERS = (
    select(
        Order.id,
        Order.status,
        Order.visit_date,
        Order.slot_time,
        Order.total,
        Order.created_at,
    )
    .where(Order.user_id == bindparam("user_id"))
    .order_by(Order.created_at.desc(), Order.id.desc())
    .limit(MAX_LISTED_ORDERS)
)
ORDER_LINES = (
    select(OrderItem.order_id, OrderItem.ticket_type, OrderItem.quantity, OrderItem.unit_price)
    .where(OrderItem.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(OrderItem.id)
)
ORDER_PAYMENTS = (
    select(
        Payment.order_id,
        Payment.id,
        Payment.status,
        Payment.expires_at,
        Payment.confirmation_url,
    )
    .where(Payment.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(Payment.created_at, Payment.id)
)

# An order of one user and its payments that can still be canceled.
ORDER_STATE = (
    select(Order.status, Payment.id, Payment.status.label("payment_status"))
    .outerjoin(Payment, Payment.order_id == Order.id)
    .where(Order.id == bindparam("order_id"), Order.user_id == bindparam("user_id"))
    .order_by(Payment.created_at, Payment.id)
)


@dataclass(frozen=True, slots=True)
class OrderState:
    """Where an order stands, and its payments still pending."""

    status: str
    pending: tuple[str, ...]


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

    async def tickets(self, user_id: str) -> tuple[OwnedTicket, ...]:
        """Return the user's tickets, past and coming, by visit (the latest visits if many)."""
        rows = await self._reader.rows(OWNED, {"user_id": user_id})
        return tuple(OwnedTicket(*row) for row in reversed(rows))

    async def owned_ticket(self, user_id: str, code: str) -> OwnedTicket | None:
        """Return the user's ticket with this code; None if there is none or it is another's."""
        rows = await self._reader.rows(OWNED_ONE, {"user_id": user_id, "code": code})
        return OwnedTicket(*rows[0]) if rows else None

    async def orders(self, user_id: str) -> tuple[OrderView, ...]:
        """Return the user's ticket orders, newest first, with their lines and latest payment."""
        orders = await self._reader.rows(ORDERS, {"user_id": user_id})
        if not orders:
            return ()
        ids = {"order_ids": [row.id for row in orders]}
        lines: dict[str, list[OrderLineView]] = {}
        for row in await self._reader.rows(ORDER_LINES, ids):
            lines.setdefault(row.order_id, []).append(OrderLineView(*row[1:]))
        # Oldest first, so the last one written for an order is its latest payment.
        payments = {
            row.order_id: OrderPayment(*row[1:])
            for row in await self._reader.rows(ORDER_PAYMENTS, ids)
        }
        return tuple(
            OrderView(
                order_id=row.id,
                status=row.status,
                visit_date=row.visit_date,
                slot_time=row.slot_time,
                total=row.total,
                created_at=row.created_at,
                lines=tuple(lines.get(row.id, ())),
                payment=payments.get(row.id),
            )
            for row in orders
        )

    async def order_state(self, user_id: str, order_id: str) -> OrderState | None:
        """Return one of the user's orders' status and pending payments; None if not theirs."""
        rows = await self._reader.rows(ORDER_STATE, {"user_id": user_id, "order_id": order_id})
        if not rows:
            return None
        pending = tuple(row.id for row in rows if row.payment_status == PaymentStatus.PENDING.value)
        return OrderState(rows[0].status, pending)
