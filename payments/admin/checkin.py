"""Check-in at the gate: a ticket let in, valid, for today, and only once; who and which device.

The same use-case serves /checkin in the chat and the Mini App's scanner (payments/api/gate.py).
What is scanned is either signed QR content (`ZT1.…`, payments/tickets/signing.py: a forged
one is refused before the database is asked) or a printed or typed code. Offline gates send
their queued scans later with the moment they scanned: the check-in keeps that moment, and a
ticket someone else used in the meantime is reported as let in twice.
"""

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
from payments.tickets.signing import BadQr, TicketSigner, looks_signed
from payments.types import TicketStatus

# The device /checkin in the chat records.
CHAT_DEVICE = "chat"
_AUDIT_TARGET = 64


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
    checked_in_by: int
    checked_in_device: str | None


@dataclass(frozen=True, slots=True)
class GateTicket:
    """What the gate shows of a scanned ticket, let in or not."""

    code: str
    ticket_type: str
    visit_date: date
    slot_time: str


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to one scan: let in (`check_in`) or refused (`refusal`), never both."""

    ticket: GateTicket | None
    check_in: CheckIn | None
    refusal: Refusal | None
    # A queued offline scan of a ticket someone else had checked in: two people got in.
    twice: bool = False


@dataclass(frozen=True, slots=True)
class UsedTicket:
    """A ticket of today already checked in: when, by whom, on which device."""

    code: str
    at: datetime | None
    by: int | None
    device: str | None


@dataclass(frozen=True, slots=True)
class GateDay:
    """What an offline gate needs to answer alone: today's used and refunded tickets."""

    today: date
    timezone: str
    used: list[UsedTicket]
    refunded: list[str]


def _check_in_refusal(ticket: Ticket) -> Refusal:
    """Say why a ticket that exists was not let in."""
    if ticket.status == TicketStatus.USED:
        return Refusal(
            "ticket_used",
            f"already checked in at {ticket.checked_in_at}",
            at=ticket.checked_in_at,
            by=ticket.checked_in_by,
            device=ticket.checked_in_device,
        )
    if ticket.status == TicketStatus.REFUNDED:
        return Refusal("ticket_refunded", "the ticket was refunded")
    return Refusal(
        "ticket_other_day",
        f"the ticket is for {ticket.visit_date.isoformat()}",
        date=ticket.visit_date,
        time=ticket.slot_time,
    )


def _replayed(ticket: Ticket, staff_id: int, device: str | None, at: datetime) -> bool:
    """Whether a queued scan was already recorded (a sync resent after a lost answer)."""
    return (
        ticket.status == TicketStatus.USED
        and ticket.checked_in_by == staff_id
        and ticket.checked_in_device == device
        and ticket.checked_in_at == at
    )


class CheckIns:
    """Let tickets in at the gate."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        tz: ZoneInfo,
        signer: TicketSigner,
    ) -> None:
        """Keep the collaborators; `tz` says which day is today, `signer` checks QR content."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._tz = tz
        self._signer = signer

    async def check_in(self, staff_id: int, text: str, *, device: str = CHAT_DEVICE) -> CheckIn:
        """Let a ticket in or raise the Refusal that says why not (the chat's /checkin)."""
        admission = await self.admit(staff_id, text, device=device)
        if admission.refusal is not None:
            raise admission.refusal
        assert admission.check_in is not None  # noqa: S101 - admitted or refused, never neither
        return admission.check_in

    async def admit(
        self,
        staff_id: int,
        text: str,
        *,
        device: str | None,
        scanned_at: datetime | None = None,
    ) -> Admission:
        """Let a ticket in: genuine, valid, for its day (shop time zone), and only once.

        `text` is signed QR content or a code as typed or scanned: any case, with or without
        spaces and dashes (payments/tickets/codes.py). `scanned_at` is when an offline gate
        scanned it (never later than now); the check-in is recorded at that moment and for
        that day.
        """
        text = text.strip()
        now = self._clock.now()
        at = now if scanned_at is None else min(scanned_at, now)
        day = at.astimezone(self._tz).date()
        args: dict[str, Any] = {"code": text[:200], "device": device}
        if scanned_at is not None:
            args["scanned_at"] = at.isoformat()
        if looks_signed(text):
            seen = self._signer.verify(text)
            if isinstance(seen, BadQr):
                refusal = Refusal("ticket_forged", f"a {seen.reason} QR")
                await self._audit(staff_id, text, args, f"refused: {refusal.note}")
                return Admission(ticket=None, check_in=None, refusal=refusal)
            forms: tuple[str, ...] = (seen.code,)
            args["code"] = seen.code
        else:
            forms = lookup_forms(text)
        async with self._sessionmaker.begin() as session:
            found = await tickets_repo.by_any_code(session, forms)
            done = found is not None and await tickets_repo.check_in(
                session, found.code, visit_date=day, at=at, by=staff_id, device=device
            )
            ticket = await tickets_repo.by_code(session, found.code) if found else None
            if ticket is None:
                refusal = Refusal("ticket_not_found", "no such ticket", code=text[:64])
                admission = Admission(ticket=None, check_in=None, refusal=refusal)
            else:
                admission = await self._answer(
                    session, ticket, done=done, staff_id=staff_id, device=device, at=at,
                    queued=scanned_at is not None,
                )  # fmt: skip
            if admission.check_in is not None:
                await self._audit(
                    staff_id,
                    forms[0],
                    args,
                    f"let in: order {admission.check_in.order_id}",
                    session,
                )
        if admission.refusal is not None:
            target = admission.ticket.code if admission.ticket else text
            await self._audit(staff_id, target, args, f"refused: {admission.refusal.note}")
        return admission

    async def _answer(
        self,
        session: AsyncSession,
        ticket: Ticket,
        *,
        done: bool,
        staff_id: int,
        device: str | None,
        at: datetime,
        queued: bool,
    ) -> Admission:
        """Turn the outcome of the conditional UPDATE into the gate's answer."""
        seen = GateTicket(ticket.code, ticket.ticket_type, ticket.visit_date, ticket.slot_time)
        replayed = queued and not done and _replayed(ticket, staff_id, device, at)
        if await tickets_repo.is_test(session, ticket):
            refusal = Refusal("ticket_test", "a test ticket", code=ticket.code)
            return Admission(ticket=seen, check_in=None, refusal=refusal)
        if not (done or replayed):
            refusal = _check_in_refusal(ticket)
            twice = queued and refusal.reason == "ticket_used"
            return Admission(ticket=seen, check_in=None, refusal=refusal, twice=twice)
        user = await session.get(User, ticket.user_id)
        payment = await session.get(Payment, ticket.payment_id)
        check_in = CheckIn(
            code=ticket.code,
            ticket_type=ticket.ticket_type,
            visit_date=ticket.visit_date,
            slot_time=ticket.slot_time,
            order_id=ticket.order_id,
            payment_id=ticket.payment_id,
            provider_id=payment.provider_id if payment else None,
            user_id=ticket.user_id,
            user_name=display_name(user, ticket.user_id),
            checked_in_at=at,
            checked_in_by=staff_id,
            checked_in_device=device,
        )
        return Admission(ticket=seen, check_in=check_in, refusal=None)

    async def _audit(
        self,
        staff_id: int,
        target: str,
        args: dict[str, Any],
        result: str,
        session: AsyncSession | None = None,
    ) -> None:
        await audit.record(
            self._sessionmaker,
            self._clock,
            staff_id,
            "checkin",
            target[:_AUDIT_TARGET],
            args,
            result,
            session,
        )

    async def day(self) -> GateDay:
        """Return today's used and refunded tickets (shop time zone), for gates gone offline."""
        today = self._clock.now().astimezone(self._tz).date()
        async with self._sessionmaker() as session:
            used = await tickets_repo.used_on(session, today)
            refunded = await tickets_repo.refunded_codes_on(session, today)
        return GateDay(
            today=today,
            timezone=self._tz.key,
            used=[
                UsedTicket(t.code, t.checked_in_at, t.checked_in_by, t.checked_in_device)
                for t in used
            ],
            refunded=refunded,
        )
