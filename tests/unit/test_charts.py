"""The revenue chart of /stats (payments/admin/charts.py)."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from payments.admin.charts import ChartLabels, revenue_chart


async def test_the_chart_is_a_png_drawn_without_pyplot_state() -> None:
    series = [(date(2026, 3, day), Decimal(day * 100), Decimal("299.00")) for day in range(1, 31)]
    labels = ChartLabels("Выручка", "Билеты", "Подписки")
    first, second = await asyncio.gather(
        asyncio.to_thread(revenue_chart, series, labels),
        asyncio.to_thread(revenue_chart, series, labels),
    )
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert first == second
