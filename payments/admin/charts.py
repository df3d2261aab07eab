"""PNG charts for the admin console, drawn with matplotlib's Agg renderer.

The figure is built with the object API (`matplotlib.figure.Figure` on a `FigureCanvasAgg`),
never through pyplot: pyplot keeps global state (a current figure, a backend chosen once per
process, figures that live until closed) that is not safe to share between the event loop and
the worker thread that renders. A Figure owned by one call is simply dropped when it returns.
matplotlib is imported inside the function so starting the app does not pay for it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

TICKETS_COLOR = "#2e7d32"
SUBSCRIPTIONS_COLOR = "#1565c0"


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The words on the chart, in the admin's language (the caller takes them from bot texts)."""

    title: str
    tickets: str
    subscriptions: str


def _whole_roubles(amount: Decimal) -> int:
    """Return a bar height: pixels need no kopecks, and no float ever holds money here."""
    return int(amount.to_integral_value())


def revenue_chart(
    series: Sequence[tuple[date, Decimal, Decimal]], labels: ChartLabels, *, dpi: int = 110
) -> bytes:
    """Draw revenue per day as stacked bars (tickets, subscriptions) and return a PNG.

    `series` holds (day, tickets revenue, subscriptions revenue), oldest day first. CPU-bound:
    call it through `asyncio.to_thread` from async code.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure = Figure(figsize=(9, 4.2), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(series)))
    tickets = [_whole_roubles(row[1]) for row in series]
    subscriptions = [_whole_roubles(row[2]) for row in series]
    axes.bar(positions, tickets, color=TICKETS_COLOR, label=labels.tickets)
    axes.bar(
        positions,
        subscriptions,
        bottom=tickets,
        color=SUBSCRIPTIONS_COLOR,
        label=labels.subscriptions,
    )
    step = max(1, len(series) // 10)
    ticks = positions[::-1][::step][::-1]  # counted back from today, so today is labelled
    axes.set_xticks(ticks)
    axes.set_xticklabels([f"{series[i][0]:%d.%m}" for i in ticks])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _: f"{int(value):,}".replace(",", " "))
    )
    axes.set_ylim(bottom=0)
    if not any(tickets) and not any(subscriptions):
        axes.set_ylim(0, 1)
    axes.set_title(labels.title)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
