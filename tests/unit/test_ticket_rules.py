"""Which slots can be booked: a slot that began earlier today is closed, later ones are open."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from payments.catalog import load_catalog
from payments.tickets.rules import InvalidOrder, TicketRules

SHOP_TZ = ZoneInfo("Europe/Moscow")
NOW = datetime(2031, 5, 14, 12, 30, tzinfo=SHOP_TZ)  # a Wednesday, between slots
TODAY = NOW.date()


@pytest.fixture
def rules() -> TicketRules:
    return TicketRules(load_catalog(), SHOP_TZ)


@pytest.mark.parametrize("slot", ["10:00", "12:00"])
def test_a_slot_that_began_earlier_today_cannot_be_booked(rules: TicketRules, slot: str) -> None:
    assert not rules.slot_open(TODAY, slot, NOW)
    with pytest.raises(InvalidOrder) as refused:
        rules.validate(TODAY, slot, {"adult": 1}, NOW)
    assert refused.value.field == "visit_time"
    assert "started" in refused.value.message


def test_later_slots_today_and_any_slot_tomorrow_can_be_booked(rules: TicketRules) -> None:
    assert rules.validate(TODAY, "14:00", {"adult": 1}, NOW).slot_time == "14:00"
    tomorrow = TODAY + timedelta(days=1)
    assert rules.validate(tomorrow, "10:00", {"adult": 1}, NOW).slot_time == "10:00"
    assert TODAY in rules.bookable_dates(NOW)


def test_today_closes_once_its_last_slot_has_begun(rules: TicketRules) -> None:
    evening = NOW.replace(hour=16, minute=1)
    assert not rules.day_open(TODAY, evening)
    assert TODAY not in rules.bookable_dates(evening)
    assert rules.bookable_dates(evening)[0] == TODAY + timedelta(days=1)


def test_the_slot_is_read_in_the_shop_time_zone(rules: TicketRules) -> None:
    # 12:30 in Moscow is 09:30 UTC: the 10:00 slot (Moscow) has begun although 10:00 UTC has not.
    utc_now = NOW.astimezone(ZoneInfo("UTC"))
    assert utc_now.hour == 9
    assert not rules.slot_open(TODAY, "10:00", utc_now)
