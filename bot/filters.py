"""Filters checked on the event loop.

aiogram runs every filter that is not a coroutine function (a plain function, a bare magic
filter such as `F.text`) through `asyncio.to_thread`, on every update it is checked for: a
worker-thread hop and a loop wake-up for an attribute look-up. Routers use async predicates
and wrap magic filters in `Magic`; tests/unit/test_router_filters.py keeps it so.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Magic(Filter):
    """A magic filter (`F.text`, `F.data.startswith(...)`) resolved in place, not in a thread."""

    __slots__ = ("_magic",)

    def __init__(self, magic: MagicFilter) -> None:
        """Keep the magic filter."""
        self._magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        """Resolve it against the event, as aiogram would: a truthy value lets the event pass."""
        return self._magic.resolve(event)
