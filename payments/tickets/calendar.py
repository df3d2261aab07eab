"""The booking calendar: each date and slot of a range, open or closed and why. Pure.

The rules are TicketRules' (the window, closed weekdays, started slots), so the calendar never
offers what checkout would refuse; the seats come from `Availability.seats_between`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from db.repositories.inventory import SlotSeats
from payments.tickets.rules import TicketRules


class DayClosed(StrEnum):
    """Why a date cannot be booked."""

    PAST = "past"
    CLOSED_WEEKDAY = "closed_weekday"
    BEYOND_WINDOW = "beyond_window"
    SOLD_OUT = "sold_out"
    # Every slot still ahead was closed by an admin (capacity 0).
    CLOSED = "closed"


class SlotClosed(StrEnum):
    """Why a slot cannot be booked."""

    STARTED = "started"
    SOLD_OUT = "sold_out"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class SlotDay:
    """One slot of one date: its seats and whether it can be booked."""

    time: str
    capacity: int
    free: int
    reason: SlotClosed | None

    @property
    def open(self) -> bool:
        """Return whether the slot can be booked."""
        return self.reason is None


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One date: its slots (none on a date closed as a whole) and free seats of its open slots."""

    date: date
    reason: DayClosed | None
    slots: tuple[SlotDay, ...]

    @property
    def open(self) -> bool:
        """Return whether some slot of the date can be booked."""
        return self.reason is None

    @property
    def free(self) -> int:
        """Return the free seats of the slots that can be booked."""
        return sum(slot.free for slot in self.slots if slot.open)


@dataclass(frozen=True, slots=True)
class Calendar:
    """A range of dates and the bookable window they are read against."""

    today: date
    first_date: date
    last_date: date
    days: tuple[CalendarDay, ...]


def _slot(rules: TicketRules, day: date, seats: SlotSeats, now: datetime) -> SlotDay:
    free = seats.left
    reason = None
    if not rules.slot_open(day, seats.slot_time, now):
        reason = SlotClosed.STARTED
    elif seats.capacity <= 0:
        reason = SlotClosed.CLOSED
    elif free <= 0:
        reason = SlotClosed.SOLD_OUT
    return SlotDay(seats.slot_time, seats.capacity, free, reason)


def _day(rules: TicketRules, day: date, seats: Sequence[SlotSeats], now: datetime) -> CalendarDay:
    if day < rules.today(now):
        return CalendarDay(day, DayClosed.PAST, ())
    if day > rules.last_day(now):
        return CalendarDay(day, DayClosed.BEYOND_WINDOW, ())
    if not rules.weekday_open(day):
        return CalendarDay(day, DayClosed.CLOSED_WEEKDAY, ())
    slots = tuple(_slot(rules, day, slot, now) for slot in seats)
    ahead = [slot for slot in slots if slot.reason is not SlotClosed.STARTED]
    reason = None
    if not ahead:
        reason = DayClosed.PAST
    elif all(slot.reason is SlotClosed.CLOSED for slot in ahead):
        reason = DayClosed.CLOSED
    elif not any(slot.open for slot in ahead):
        reason = DayClosed.SOLD_OUT
    return CalendarDay(day, reason, slots)


def build_calendar(
    rules: TicketRules, seats: Mapping[date, Sequence[SlotSeats]], now: datetime
) -> Calendar:
    """Return each date of `seats` (in date order) with its slots, open or closed and why."""
    days = tuple(_day(rules, day, seats[day], now) for day in sorted(seats))
    today = rules.today(now)
    window = rules.bookable_dates(now) or [today]
    return Calendar(today=today, first_date=window[0], last_date=window[-1], days=days)
