"""CSV cells of the admin export (payments/admin/export.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments.admin.export import csv_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+7 999", "'+7 999"),
        ("@cmd", "'@cmd"),
        ("plain", "plain"),
        (Decimal("299"), "299.00"),
        (True, "true"),
        (None, ""),
    ],
)
def test_csv_cells_never_run_as_formulas(value: object, cell: str) -> None:
    assert csv_cell(value) == cell
