"""Check-in for /checkin: a ticket let in at the gate, valid, for today, and only once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, Ticket, User
from db.repositories import tickets as tickets_repo
from payments.admin import audit
from payments.admin.results import Refusal, display_name
from payments.ports import Clock
from payments.tickets.codes import lookup_forms
from payments.types import TicketStatus


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A ticket let in at the gate."""

    code: str
    ticket_type: str
    visit_date: date
    slot_time: str
    order_id: str
    payment_id: str
    provider_id: str | None
    user_id: str
    user_name: str
    checked_in_at: datetime


def _check_in_refusal(ticket: Ticket) -> Refusal:
    """Say why a ticket that exists was not let in."""
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


class CheckIns:
    """Let tickets in at the gate."""

    def __init__(
        self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, tz: ZoneInfo
    ) -> None:
        """Keep the collaborators; `tz` says which day is today."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._tz = tz

    async def check_in(self, admin_id: int, code: str) -> CheckIn:
        """Let a ticket in: valid, for today (shop time zone), and only once.

        The code is read as typed or scanned: any case, with or without spaces and dashes
        (payments/tickets/codes.py).
        """
        code = code.strip()
        args: dict[str, Any] = {"code": code}
        now = self._clock.now()
        today = now.astimezone(self._tz).date()
        refusal: Refusal | None = None
        async with self._sessionmaker.begin() as session:
            found = await tickets_repo.by_any_code(session, lookup_forms(code))
            done = found is not None and await tickets_repo.check_in(
                session, found.code, visit_date=today, now=now, by=admin_id
            )
            ticket = await tickets_repo.by_code(session, found.code) if found else None
            if ticket is None:
                refusal = Refusal("ticket_not_found", "no such ticket", code=code)
            elif await tickets_repo.is_test(session, ticket):
                refusal = Refusal("ticket_test", "a test ticket", code=ticket.code)
            elif not done:
                refusal = _check_in_refusal(ticket)
            else:
                user = await session.get(User, ticket.user_id)
                payment = await session.get(Payment, ticket.payment_id)
                result = CheckIn(
                    code=ticket.code,
                    ticket_type=ticket.ticket_type,
                    visit_date=ticket.visit_date,
                    slot_time=ticket.slot_time,
                    order_id=ticket.order_id,
                    payment_id=ticket.payment_id,
                    provider_id=payment.provider_id if payment else None,
                    user_id=ticket.user_id,
                    user_name=display_name(user, ticket.user_id),
                    checked_in_at=now,
                )
                await audit.record(
                    self._sessionmaker,
                    self._clock,
                    admin_id,
                    "checkin",
                    code[:64],
                    args,
                    f"let in: order {ticket.order_id}",
                    session,
                )
        if refusal is not None:
            await audit.refuse(
                self._sessionmaker, self._clock, admin_id, "checkin", code[:64], args, refusal
            )
        return result
