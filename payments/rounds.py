"""The sweeps' shared parts: what a run reports (`SweepReport`), and the reconcilers' rounds:
a remembered place in a round-robin, checks a few at a time.

Asking YooKassa about payments one after the other made a run of 500 as long as 500 round
trips, and starting from the oldest every run meant the newer ones never came up before
they expired. A `Round` remembers where the last run stopped (in memory: every instance goes
round on its own, which is harmless, as every state change is a conditional UPDATE), and
`check_bounded` keeps at most `parallel` checks in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from db.repositories.sweeps import Cursor

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SweepReport:
    """How many rows a sweep looked at and how many it changed."""

    seen: int
    changed: int


class Round:
    """Where a round-robin over payments stopped: (moment, id) of the last one checked."""

    def __init__(self) -> None:
        """Start at the beginning."""
        self.after: Cursor | None = None


async def check_bounded(
    items: Sequence[T], check: Callable[[T], Awaitable[bool]], parallel: int
) -> int:
    """Run `check` on every item, at most `parallel` at once; return how many said True.

    One item that raises is logged and skipped: it must not keep the others unchecked.
    """
    pending = iter(items)
    changed = 0

    async def worker() -> None:
        nonlocal changed
        for item in pending:  # shared: each item is taken by exactly one worker
            try:
                moved = await check(item)
            except Exception:
                log.exception("checking %s failed", item)
                continue
            changed += moved  # after the await: `changed += await …` would add to a stale value

    await asyncio.gather(*(worker() for _ in range(min(parallel, len(items)))))
    return changed
