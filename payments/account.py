"""What a customer owns: their subscription and tickets, as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Ticket
from db.repositories.subscriptions import get_subscription
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
        self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, tz: ZoneInfo
    ) -> None:
        """Keep the database, the clock and the shop time zone."""
        self._sessionmaker = sessionmaker
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
        async with self._sessionmaker() as session:
            row = await get_subscription(session, user_id)
            result = await session.execute(
                select(Ticket)
                .where(Ticket.user_id == user_id, Ticket.visit_date >= today)
                .order_by(Ticket.visit_date, Ticket.slot_time, Ticket.id)
                .limit(MAX_LISTED_TICKETS)
            )
            tickets = tuple(_view(ticket) for ticket in result.scalars())
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
