"""Refund receipt lines: a share of each sold line, in kopecks, adding up to the refund."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments.receipts import refund_lines
from payments.types import ReceiptLine

ADULT = ReceiptLine("Взрослый", 2, Decimal("1000.00"), 1, "service", "full_prepayment")
CHILD = ReceiptLine("Детский", 1, Decimal("500.00"), 1, "service", "full_prepayment")
CONCESSION = ReceiptLine("Льготный", 3, Decimal("700.00"), 1, "service", "full_prepayment")


def _sum(lines: tuple[ReceiptLine, ...]) -> Decimal:
    return sum((line.unit_price * line.quantity for line in lines), Decimal(0))


def test_a_refund_of_everything_returns_the_lines_as_sold() -> None:
    assert refund_lines([ADULT, CHILD], Decimal("2500.00")) == (ADULT, CHILD)


@pytest.mark.parametrize(
    "refund", ["0.01", "0.02", "0.03", "1.00", "333.33", "1000.00", "2499.99", "4599.99"]
)
def test_a_partial_refund_adds_up_to_exactly_the_amount(refund: str) -> None:
    lines = refund_lines([ADULT, CHILD, CONCESSION], Decimal(refund))
    assert _sum(lines) == Decimal(refund)
    assert all(line.quantity == 1 for line in lines)
    assert all(line.unit_price > 0 for line in lines)
    assert all(line.unit_price == line.unit_price.quantize(Decimal("0.01")) for line in lines)


def test_a_partial_refund_is_split_in_proportion_remainder_on_the_last_line() -> None:
    lines = refund_lines([ADULT, CHILD], Decimal("333.33"))
    assert [(line.description, line.unit_price) for line in lines] == [
        ("Взрослый", Decimal("266.66")),
        ("Детский", Decimal("66.67")),
    ]


@pytest.mark.parametrize("refund", ["0.00", "-1.00", "2500.01"])
def test_no_receipt_for_a_refund_outside_the_payment(refund: str) -> None:
    with pytest.raises(ValueError, match="has no receipt"):
        refund_lines([ADULT, CHILD], Decimal(refund))
