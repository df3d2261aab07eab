"""The Mini App's calendar reads a range of dates in one statement, not one per date."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable

from db.reader import Reader
from db.repositories.inventory import hold_seats, set_capacity
from payments.catalog import load_catalog
from payments.tickets.calendar import DayClosed, SlotClosed, build_calendar
from payments.tickets.rules import Availability, TicketRules

SHOP_TZ = ZoneInfo("Europe/Moscow")
NOW = datetime(2031, 5, 14, 11, 0, tzinfo=SHOP_TZ)  # a Wednesday; 10:00 has started
TODAY = NOW.date()


class CountingReader(Reader):
    """The real reader, counting the statements it runs."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Read through the engine; nothing run yet."""
        super().__init__(engine)
        self.statements = 0

    async def all(self, statement: Executable) -> Sequence[Any]:
        """Count, then run."""
        self.statements += 1
        return await super().all(statement)

    async def rows(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        """Count, then run."""
        self.statements += 1
        return await super().rows(statement, params)


async def test_a_range_of_62_days_is_read_with_one_statement(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    catalog = load_catalog()
    day3, day40 = TODAY + timedelta(days=3), TODAY + timedelta(days=40)
    async with sessionmaker.begin() as session:
        assert await hold_seats(session, day3, "12:00", 7, 100)
        assert await hold_seats(session, day40, "16:00", 2, 100)
        assert (await set_capacity(session, day3, "14:00", 0, 100))[0]
    reader = CountingReader(engine)
    try:
        seats = await Availability(reader=reader, catalog=catalog).seats_between(
            TODAY, TODAY + timedelta(days=61)
        )
        assert reader.statements == 1
    finally:
        reader.close()
    assert len(seats) == 62
    assert [(s.slot_time, s.capacity, s.held) for s in seats[day3]] == [
        ("10:00", 100, 0),
        ("12:00", 100, 7),
        ("14:00", 0, 0),
        ("16:00", 100, 0),
    ]
    assert seats[day40][3].held == 2

    calendar = build_calendar(TicketRules(catalog, SHOP_TZ), seats, NOW)
    days = {day.date: day for day in calendar.days}
    assert days[TODAY].slots[0].reason is SlotClosed.STARTED
    assert days[TODAY].free == 300
    assert [slot.reason for slot in days[day3].slots] == [None, None, SlotClosed.CLOSED, None]
    assert days[day3].free == 293
    # The default catalog sells 30 days ahead: day 40 is beyond, whatever its seats.
    assert days[day40].reason is DayClosed.BEYOND_WINDOW
    assert calendar.first_date == TODAY
    assert calendar.last_date == date(2031, 6, 13)
