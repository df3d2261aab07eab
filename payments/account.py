"""What a customer owns: their subscription and tickets, as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Subscription, Ticket, User
from db.reader import Reader
from payments.ports import Clock
from payments.types import SubscriptionInfo, SubscriptionStatus

MAX_LISTED_TICKETS = 40


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
class AccountSummary:
    """A customer's purchases."""

    subscription: SubscriptionInfo | None
    tickets: tuple[TicketView, ...] = ()


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
    ) -> None:
        """Keep the database, the clock and the shop time zone."""
        self._sessionmaker = sessionmaker
        self._reader = reader
        self._clock = clock
        self._tz = tz

    async def ticket(self, user_id: str, ticket_id: int) -> TicketView | None:
        """Return one of the user's tickets."""
        async with self._sessionmaker() as session:
            ticket = await session.get(Ticket, ticket_id)
        if ticket is None or ticket.user_id != user_id:
            return None
        return _view(ticket)

    async def summary(self, user_id: str) -> AccountSummary:
        """Return the user's subscription (a lapsed one shows as expired) and coming tickets."""
        today = self._clock.now().astimezone(self._tz).date()
        # One statement for both: this screen is opened often, and every round trip counts.
        rows = await self._reader.all(
            select(Subscription, Ticket)
            .select_from(User)
            .outerjoin(Subscription, Subscription.user_id == User.id)
            .outerjoin(Ticket, and_(Ticket.user_id == User.id, Ticket.visit_date >= today))
            .where(User.id == user_id)
            .order_by(Ticket.visit_date, Ticket.slot_time, Ticket.id)
            .limit(MAX_LISTED_TICKETS)
        )
        row = rows[0][0] if rows else None
        tickets = tuple(_view(r[1]) for r in rows if r[1] is not None)
        subscription = None
        if row is not None and row.expires_at > row.starts_at:
            running = row.status == "active" and row.expires_at > self._clock.now()
            subscription = SubscriptionInfo(
                user_id=row.user_id,
                plan_code=row.plan_code,
                status=SubscriptionStatus.ACTIVE if running else SubscriptionStatus.EXPIRED,
                starts_at=row.starts_at,
                expires_at=row.expires_at,
            )
        return AccountSummary(subscription=subscription, tickets=tickets)
