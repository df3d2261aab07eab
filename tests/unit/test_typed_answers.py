"""What a customer types where the ticket journey shows buttons: taken only when unambiguous."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.tickets.typed import parse_day, parse_quantity, parse_slot
from payments.catalog import load_catalog

TODAY = date(2026, 11, 25)
SLOTS = ["10:00", "12:00", "14:00", "16:00"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("сегодня", date(2026, 11, 25)),
        ("Завтра", date(2026, 11, 26)),
        ("tomorrow", date(2026, 11, 26)),
        ("послезавтра", date(2026, 11, 27)),
        ("25.12", date(2026, 12, 25)),
        ("1.2", date(2027, 2, 1)),  # past this year: next year's
        ("25.12.2026", date(2026, 12, 25)),
        ("25 декабря", date(2026, 12, 25)),
        ("December 25", date(2026, 12, 25)),
        ("31.02", None),
        ("в 12", None),
        ("２５.１２", None),  # full-width digits are not read as a date
    ],
)
def test_typed_dates(text: str, expected: date | None) -> None:
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12:00", "12:00"), ("в 12", "12:00"), ("14", "14:00"), ("12:30", None), ("в полдень", None)],
)
def test_typed_times(text: str, expected: str | None) -> None:
    assert parse_slot(text, SLOTS) == expected


def test_typed_quantities_need_a_type_when_several_are_sold() -> None:
    catalog = load_catalog()
    assert parse_quantity("2", catalog) is None
    adult = parse_quantity("2 взрослых", catalog)
    assert adult is not None and (adult[0].code, adult[1]) == ("adult", 2)
    child = parse_quantity("children 3", catalog)
    assert child is not None and (child[0].code, child[1]) == ("child", 3)
    assert parse_quantity("2 слона", catalog) is None
