"""What a deliverer answers the lane, and what it is given: no Telegram types in payments/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Envelope:
    """One claimed outbox row as a deliverer sees it."""

    id: int
    kind: str
    chat_id: int | None
    payload: dict[str, Any] = field(hash=False)
    attempts: int
    broadcast_id: int | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """Delivered: the row is done."""


@dataclass(frozen=True, slots=True)
class Blocked:
    """The user blocked the bot: mark them, fail the row, cancel their pending broadcast rows."""


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Not delivered now; try this row again in `seconds` (a 429's retry_after, a 5xx, ...)."""

    seconds: float
    reason: str
    # Telegram said "too many requests": not a failure, does not count towards giving up.
    rate_limited: bool = False


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Never deliverable (a bad request, a refused address): fail the row with the reason."""

    reason: str


Outcome = Sent | Blocked | RetryLater | GiveUp
Deliver = Callable[[Envelope], Awaitable[Outcome]]
