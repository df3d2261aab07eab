"""What made a second at the fake Telegram hold more sends than the budget allows (make bench).

The outbox bench's busiest second is counted over every send and edit the fake saw. When it is
over BUDGET, this says which seconds were, and what the busiest one was made of: the broadcast,
the buyers' answers (which never wait for the budget) and confirmations, the admin's progress
edits; and the gaps before it, so a burst after a stalled process shows as one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

Call = tuple[float, str, dict[str, Any]]  # (monotonic time at the fake, method, params)

GAP_SHOWN = 0.15  # gaps between two calls at least this long are listed (the pace is ~0.036 s)
BEFORE_SECONDS = 3.0


def windows_over(moments: list[float], limit: int) -> list[tuple[float, float, int]]:
    """Return the stretches whose one-second windows hold more than `limit`: (from, to, most).

    A window is (t - 1, t] ending at a call; overlapping windows over the limit are merged.
    """
    ordered = sorted(moments)
    found: list[tuple[float, float, int]] = []
    left = 0
    for right, moment in enumerate(ordered):
        while ordered[left] <= moment - 1.0:
            left += 1
        count = right - left + 1
        if count <= limit:
            continue
        start = ordered[left]
        if found and start <= found[-1][1]:
            first, _, most = found[-1]
            found[-1] = (first, moment, max(most, count))
        else:
            found.append((start, moment, count))
    return found


def busiest_window(calls: list[Call]) -> list[Call]:
    """Return the calls of the one-second window holding the most (the first such)."""
    ordered = sorted(calls, key=lambda call: call[0])
    best: tuple[int, int] = (0, 0)
    left = 0
    for right, (moment, _, _) in enumerate(ordered):
        while ordered[left][0] <= moment - 1.0:
            left += 1
        if right - left + 1 > best[1] - best[0]:
            best = (left, right + 1)
    return ordered[best[0] : best[1]]


def describe(
    calls: list[Call],
    *,
    limit: int,
    began: float,
    kind_of: Callable[[str, dict[str, Any]], str],
    marks: dict[str, float],
) -> list[str]:
    """Return lines saying which seconds held more than `limit` calls and what the busiest held.

    Times are seconds since `began`; `marks` (the kill, the restart) are shown beside them.
    """

    def at(moment: float) -> str:
        return f"{moment - began:.2f} s"

    lines = [
        "marks: " + ", ".join(f"{name} at {at(moment)}" for name, moment in marks.items()),
    ]
    over = windows_over([moment for moment, _, _ in calls], limit)
    lines.append(
        f"seconds over {limit}: {len(over)}"
        + "".join(f"; {at(first)}–{at(last)} (most {most})" for first, last, most in over[:20])
    )
    window = busiest_window(calls)
    if not window:
        return lines
    start, end = window[0][0], window[-1][0]
    made = Counter(f"{name} {kind_of(name, params)}" for _, name, params in window)
    lines.append(
        f"busiest: {len(window)} in {at(start)}–{at(end)}: "
        + ", ".join(f"{what} ×{n}" for what, n in made.most_common())
    )
    halves = Counter(
        ("first half" if moment < start + 0.5 else "second half") for moment, _, _ in window
    )
    lines.append(f"busiest, by half-second: {dict(halves)}")
    before = sorted(m for m, _, _ in calls if start - BEFORE_SECONDS <= m <= end)
    gaps = [
        (later - earlier, earlier)
        for earlier, later in zip(before, before[1:], strict=False)
        if later - earlier >= GAP_SHOWN
    ]
    lines.append(
        f"gaps ≥ {GAP_SHOWN} s in the {BEFORE_SECONDS:.0f} s before it and in it: "
        + (", ".join(f"{gap:.2f} s after {at(moment)}" for gap, moment in gaps) or "none")
    )
    return lines
