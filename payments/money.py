"""Decimal helpers for money: two places, strings on the wire, never floats."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# ASCII digits only: Decimal() and `\d` would take Arabic-Indic or full-width digits too.
_TWO_PLACES = re.compile(r"-?[0-9]+\.[0-9]{2}")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class MoneyError(ValueError):
    """A value that is not an amount of money."""


def parse_money(value: str | int | Decimal, *, strict: bool = False) -> Decimal:
    """Parse an amount; with strict, require a string with exactly two decimals."""
    if isinstance(value, bool | float):
        raise MoneyError("amounts are strings with two decimals, not floats")
    if strict and not (isinstance(value, str) and _TWO_PLACES.fullmatch(value)):
        raise MoneyError('amount must have exactly two decimal places, like "2500.00"')
    if isinstance(value, str) and not _NUMBER.fullmatch(value):
        raise MoneyError(f"not an amount: {value!r}")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    return quantize(amount)


def quantize(amount: Decimal) -> Decimal:
    """Round to kopecks."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal) -> int:
    """Return the amount in minor units (kopecks)."""
    return int(quantize(amount) * 100)


def from_minor(minor: int) -> Decimal:
    """Return the amount for a number of minor units."""
    return quantize(Decimal(minor) / 100)


def wire(amount: Decimal) -> str:
    """Format for JSON: "2500.00"."""
    return f"{quantize(amount):.2f}"


def human(amount: Decimal) -> str:
    """Format for people: 2999 or 249.50, grouped with thin spaces."""
    q = quantize(amount)
    text = f"{int(q):,}" if q == q.to_integral_value() else f"{q:,.2f}"
    return text.replace(",", "\u2009")


def plain(amount: Decimal) -> str:
    """Format as the seed's descriptions do: 2999 or 249.50, no grouping."""
    q = quantize(amount)
    return str(int(q)) if q == q.to_integral_value() else f"{q:.2f}"
