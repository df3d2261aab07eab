"""Money helpers: two places, strict parsing, no floats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments.money import MoneyError, from_minor, human, parse_money, to_minor, wire


def test_parse_strict_requires_two_decimals() -> None:
    assert parse_money("2500.00", strict=True) == Decimal("2500.00")
    for bad in ("2500", "2500.0", "2500.000", "abc", "1e3", "NaN"):
        with pytest.raises(MoneyError):
            parse_money(bad, strict=True)


def test_floats_are_refused() -> None:
    with pytest.raises(MoneyError):
        parse_money(0.1)  # type: ignore[arg-type]


def test_minor_units_round_trip() -> None:
    assert to_minor(Decimal("299.00")) == 29900
    assert from_minor(29900) == Decimal("299.00")
    assert wire(Decimal("10")) == "10.00"


def test_human_format_drops_zero_kopecks_and_groups_thousands() -> None:
    assert human(Decimal("299.00")) == "299"
    assert human(Decimal("2999.00")) == "2\u2009999"
    assert human(Decimal("249.50")) == "249.50"
