"""Read Bot API answers and updates with each inline keyboard validated once, not every time.

Telegram echoes a message's inline keyboard wherever the message comes back: in the answer to
every sendMessage or editMessageText, and inside every callback query a button press brings.
aiogram validates each of those keyboards into pydantic models button by button: for the
ticket journey's month calendar that was 0.35 ms of the 0.38 ms it took to read a pressed
button's update, and reading updates and answers took about a tenth of the event loop in a
sale rush, where every customer's presses carry the same few keyboards.

`KnownKeyboards.loads` is the session's JSON reader: it parses as `json.loads` does, then puts
in place of each inline keyboard the model validated for the same keyboard before (the
models are frozen, so one is shared safely). What aiogram validates next is unchanged: the
same fields, values and types reach the handlers.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiogram.types import InlineKeyboardMarkup
from pydantic import ValidationError

if TYPE_CHECKING:
    from aiogram import Bot

# Keyboards remembered: a shop shows a few dozen at a time (the calendar of each month and
# language, the slot pickers of the open days); each is a few kilobytes.
KEPT = 128


class KnownKeyboards:
    """The inline keyboards read lately, each validated once (least recently used forgotten)."""

    def __init__(self, kept: int = KEPT) -> None:
        """Remember up to `kept` keyboards; set `bot` to the session's bot once it is made."""
        # The models carry their bot, as aiogram's own validation leaves every nested model.
        self.bot: Bot | None = None
        self._kept = kept
        self._known: OrderedDict[str, InlineKeyboardMarkup] = OrderedDict()
        self.validated = 0  # how many keyboards were validated (the rest came from memory)

    def loads(self, text: str | bytes) -> Any:
        """Parse JSON as `json.loads` does, with every inline keyboard already a model."""
        data = json.loads(text)
        self._swap(data)
        return data

    def _swap(self, node: dict[str, Any] | list[Any]) -> None:
        if isinstance(node, list):
            for item in node:
                if isinstance(item, dict | list):
                    self._swap(item)
            return
        for key, value in node.items():
            if key == "reply_markup" and isinstance(value, dict) and "inline_keyboard" in value:
                node[key] = self._markup(value)  # same key: the dict keeps its size
            elif isinstance(value, dict | list):
                self._swap(value)

    def _markup(self, value: dict[str, Any]) -> InlineKeyboardMarkup | dict[str, Any]:
        key = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        try:
            markup = InlineKeyboardMarkup.model_validate(value, context={"bot": self.bot})
        except ValidationError:
            return value  # left to the message's own validation, which reports it as aiogram does
        self.validated += 1
        self._known[key] = markup
        if len(self._known) > self._kept:
            self._known.popitem(last=False)
        return markup


__all__ = ["KnownKeyboards"]
