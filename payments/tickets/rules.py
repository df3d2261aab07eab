"""Ticket rules: which days and slots can be booked, and what a valid order is. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from db.models import SlotInventory
from db.reader import Reader
from db.repositories.inventory import SEATS_ON, SlotSeats
from payments.catalog import Catalog


class InvalidOrder(ValueError):
    """An order that breaks a rule; `field` names the part at fault (as the API names it)."""

    def __init__(self, field: str, message: str) -> None:
        """Keep the field and a message a customer can act on."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A ticket type, how many, and the catalog's unit price."""

    ticket_type: str
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        """Return the line total."""
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class ValidOrder:
    """An order that passed every rule, priced from the catalog."""

    visit_date: date
    slot_time: str
    lines: tuple[OrderLine, ...]

    @property
    def seats(self) -> int:
        """Return how many people the order admits."""
        return sum(line.quantity for line in self.lines)

    @property
    def total(self) -> Decimal:
        """Return the catalog total."""
        return sum((line.total for line in self.lines), Decimal("0.00"))


class TicketRules:
    """The booking window, closed days and slot times of the catalog, in the shop time zone."""

    def __init__(self, catalog: Catalog, tz: ZoneInfo) -> None:
        """Keep the catalog and the shop time zone."""
        self._catalog = catalog
        self._tz = tz

    @property
    def tz(self) -> ZoneInfo:
        """Return the shop time zone."""
        return self._tz

    def today(self, now: datetime) -> date:
        """Return the shop's date at an instant."""
        return now.astimezone(self._tz).date()

    def slot_start(self, visit_date: date, slot_time: str) -> datetime:
        """Return the instant a slot starts."""
        return datetime.combine(visit_date, time.fromisoformat(slot_time), tzinfo=self._tz)

    def slot_open(self, visit_date: date, slot_time: str, now: datetime) -> bool:
        """Return whether a slot can still be booked: it has not started yet."""
        return self.slot_start(visit_date, slot_time) > now

    def last_day(self, now: datetime) -> date:
        """Return the last bookable date."""
        return self.today(now) + timedelta(days=self._catalog.tickets.bookable_days_ahead)

    def weekday_open(self, visit_date: date) -> bool:
        """Return whether the zoo opens on that date's weekday."""
        return visit_date.weekday() not in self._catalog.tickets.closed_weekdays

    def day_open(self, visit_date: date, now: datetime) -> bool:
        """Return whether a date is bookable: in the window, not closed, a slot still ahead."""
        if visit_date < self.today(now) or visit_date > self.last_day(now):
            return False
        if not self.weekday_open(visit_date):
            return False
        return any(self.slot_open(visit_date, slot, now) for slot in self._catalog.tickets.slots)

    def bookable_dates(self, now: datetime) -> list[date]:
        """Return every bookable date, soonest first."""
        today = self.today(now)
        days = self._catalog.tickets.bookable_days_ahead
        candidates = (today + timedelta(days=offset) for offset in range(days + 1))
        return [d for d in candidates if self.day_open(d, now)]

    def validate(
        self, visit_date: date, slot_time: str, quantities: Mapping[str, int], now: datetime
    ) -> ValidOrder:
        """Check an order against the catalog and price it; raise InvalidOrder naming the field."""
        tickets = self._catalog.tickets
        if visit_date < self.today(now):
            raise InvalidOrder("visit_date", "the visit date is in the past")
        if visit_date > self.last_day(now):
            raise InvalidOrder(
                "visit_date",
                f"tickets are sold at most {tickets.bookable_days_ahead} days ahead",
            )
        if not self.weekday_open(visit_date):
            raise InvalidOrder("visit_date", "the zoo is closed on that day")
        if slot_time not in tickets.slots:
            raise InvalidOrder(
                "visit_time", f"no such time slot; slots are {', '.join(tickets.slots)}"
            )
        if not self.slot_open(visit_date, slot_time, now):
            raise InvalidOrder("visit_time", "that time slot has already started")
        lines = []
        for code, quantity in quantities.items():
            ticket_type = tickets.type(code)
            if ticket_type is None:
                raise InvalidOrder("ticket_type", f"unknown ticket type {code!r}")
            if quantity <= 0:
                raise InvalidOrder("quantity", "quantities must be positive")
            lines.append(OrderLine(code, quantity, ticket_type.price))
        if not lines:
            raise InvalidOrder("items", "choose at least one ticket")
        order = ValidOrder(visit_date, slot_time, tuple(lines))
        if order.seats > tickets.max_tickets_per_order:
            raise InvalidOrder(
                "quantity", f"at most {tickets.max_tickets_per_order} tickets per order"
            )
        return order


# Every stored slot of a range of dates, in one statement built once (the Mini App's calendar).
SEATS_BETWEEN = (
    select(
        SlotInventory.visit_date,
        SlotInventory.slot_time,
        SlotInventory.capacity,
        SlotInventory.held,
    )
    .where(SlotInventory.visit_date.between(bindparam("first"), bindparam("last")))
    .order_by(SlotInventory.visit_date, SlotInventory.slot_time)
)


class Availability:
    """Free seats per slot, read from the inventory with the catalog's default capacity."""

    def __init__(self, *, reader: Reader, catalog: Catalog) -> None:
        """Keep the database reader and the catalog."""
        self._reader = reader
        self._catalog = catalog

    async def seats(self, visit_date: date) -> list[SlotSeats]:
        """Return every slot of a date with its capacity and seats taken."""
        rows = await self._reader.rows(SEATS_ON, {"p_date": visit_date})
        stored = {row.slot_time: SlotSeats(row.slot_time, row.capacity, row.held) for row in rows}
        default = self._catalog.tickets.capacity_per_slot
        return [
            stored.get(slot, SlotSeats(slot, default, 0)) for slot in self._catalog.tickets.slots
        ]

    async def seats_between(self, first: date, last: date) -> dict[date, list[SlotSeats]]:
        """Return every slot of every date from `first` to `last`, read in one query.

        A date or slot without a stored row has the catalog's capacity and nothing taken.
        """
        rows = await self._reader.rows(SEATS_BETWEEN, {"first": first, "last": last})
        stored = {
            (row.visit_date, row.slot_time): SlotSeats(row.slot_time, row.capacity, row.held)
            for row in rows
        }
        default = self._catalog.tickets.capacity_per_slot
        slots = self._catalog.tickets.slots
        days = (first + timedelta(days=offset) for offset in range((last - first).days + 1))
        return {
            day: [stored.get((day, slot), SlotSeats(slot, default, 0)) for slot in slots]
            for day in days
        }
