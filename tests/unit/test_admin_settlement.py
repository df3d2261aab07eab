"""Pro-rata days a refund takes off a subscription (payments/admin/settlement.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments.admin.settlement import removed_days


@pytest.mark.parametrize(
    ("days", "refunded", "amount", "removed"),
    [
        (30, "149.50", "299.00", 15),
        (30, "99.67", "299.00", 10),
        (30, "0.01", "299.00", 0),
        (30, "299.00", "299.00", 30),
        (30, "500.00", "299.00", 30),
        (365, "1000.00", "2999.00", 122),  # 121.707… rounds half up to 122
        (90, "0.00", "799.00", 0),
    ],
)
def test_days_removed_are_pro_rata_rounded_half_up(
    days: int, refunded: str, amount: str, removed: int
) -> None:
    assert removed_days(days, Decimal(refunded), Decimal(amount)) == removed


def test_partial_refunds_add_up_to_the_whole_period() -> None:
    amount = Decimal("299.00")
    steps = [Decimal("99.67"), Decimal("99.67"), Decimal("99.66")]
    total = Decimal("0.00")
    removed = 0
    for step in steps:
        removed += removed_days(30, total + step, amount) - removed_days(30, total, amount)
        total += step
    assert removed == 30
