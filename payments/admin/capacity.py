"""Capacity for /capacity: a slot's seats on one date, never below what is held or sold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order
from db.repositories import inventory
from payments.admin import audit
from payments.admin.results import Refusal
from payments.catalog import Catalog
from payments.ports import Clock

MAX_CAPACITY = 100_000


@dataclass(frozen=True, slots=True)
class CapacityResult:
    """A slot's capacity and the seats taken in it."""

    visit_date: date
    slot_time: str
    capacity: int
    taken: int
    sold: int
    on_hold: int


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


class Capacity:
    """Set the seats of a slot."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        catalog: Catalog,
        clock: Clock,
        tz: ZoneInfo,
    ) -> None:
        """Keep the collaborators; `tz` says which dates are past."""
        self._sessionmaker = sessionmaker
        self._catalog = catalog
        self._clock = clock
        self._tz = tz

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
            await audit.refuse(
                self._sessionmaker, self._clock, admin_id, "capacity", target, args, refusal
            )
        async with self._sessionmaker.begin() as session:
            done, taken = await inventory.set_capacity(
                session, visit_date, slot_time, seats, tickets.capacity_per_slot
            )
            sold, on_hold = await _taken(session, visit_date, slot_time)
            result = CapacityResult(visit_date, slot_time, seats, taken, sold, on_hold)
            if done:
                await audit.record(
                    self._sessionmaker,
                    self._clock,
                    admin_id,
                    "capacity",
                    target,
                    args,
                    f"capacity {seats}, {taken} taken",
                    session,
                )
        if not done:
            await audit.refuse(
                self._sessionmaker,
                self._clock,
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
