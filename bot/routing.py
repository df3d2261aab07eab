"""Routers that turn away, at a glance, the messages and button presses none of their handlers take.

aiogram offers each update to every router in order until one answers, and offering it costs
as much as a database read (the data dict copied at each level, middleware wrapping, each
handler's filters run): 20-30 microseconds a router that does not take it. A press of the
ticket journey's buttons passed eight such routers on every step of a sale.

Most routers answer only given commands (`Command`) and given buttons (`CallbackData.filter()`).
A `KeyedRouter` reads those keys from its own handlers the first time it is offered an update,
and then turns away a message that is not one of its commands, or a press whose data is not one
of its buttons, before aiogram walks it. A router with any handler that takes other messages or
presses (a state's free text, a magic filter, a catch-all) is offered all of that kind, as a
plain Router is. The keys only ever narrow what the handlers' own filters then check in full.
"""

from __future__ import annotations

from collections.abc import Iterable
from re import Pattern
from typing import Any, TypeVar

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

Filter = TypeVar("Filter")
# A router's keys for one kind of update; None: it takes any update of that kind.
Commands = frozenset[str] | None
Buttons = frozenset[tuple[str, str]] | None  # (prefix, separator) of each CallbackData


def _first(handler: HandlerObject, kind: type[Filter]) -> Filter | None:
    """The handler's first filter of `kind`. A handler's filters all hold at once, so any one
    of them bounds what it takes."""
    return next((f.callback for f in handler.filters or () if isinstance(f.callback, kind)), None)


def command_keys(handlers: Iterable[HandlerObject]) -> Commands:
    """The commands (with the prefixes they take) that these message handlers answer, or None
    if any handler may take a message that is not one of them."""
    keys: set[str] = set()
    for handler in handlers:
        command = _first(handler, Command)
        if command is None:
            return None
        for allowed in command.commands:
            if isinstance(allowed, Pattern):
                return None
            keys.update(f"{prefix}{allowed}" for prefix in command.prefix)
    return frozenset(keys)


def button_keys(handlers: Iterable[HandlerObject]) -> Buttons:
    """The (prefix, separator) of the buttons these callback handlers answer, or None if any
    handler may take a press that is not one of them."""
    keys: set[tuple[str, str]] = set()
    for handler in handlers:
        button = _first(handler, CallbackQueryFilter)
        if button is None:
            return None
        data = button.callback_data
        keys.add((data.__prefix__, data.__separator__))
    return frozenset(keys)


def may_be_command(text: str | None, commands: frozenset[str]) -> bool:
    """Whether a message's text (or caption) may be one of `commands`, as `Command` parses it:
    its first word, without a @mention, compared as given and case-folded."""
    if not text:
        return False
    words = text.split(maxsplit=1)
    if not words:
        return False
    name = words[0].partition("@")[0]
    return name in commands or name.casefold() in commands


def may_be_button(data: str | None, buttons: frozenset[tuple[str, str]]) -> bool:
    """Whether a press's data may be one of `buttons`: its part before the separator is the
    prefix, as `CallbackData.unpack` reads it."""
    if not data:
        return False
    return any(data.split(separator, 1)[0] == prefix for prefix, separator in buttons)


class KeyedRouter(Router):
    """A Router that turns away messages and presses none of its handlers can take (see the
    module docstring); every other update, and every router with sub-routers, goes as usual."""

    def __init__(self, *, name: str | None = None) -> None:
        """A router like aiogram's; its keys are read when it is first offered an update."""
        super().__init__(name=name)
        self._keys: tuple[Commands, Buttons] | None = None

    def keys(self) -> tuple[Commands, Buttons]:
        """This router's commands and buttons (read once: routers are complete when used)."""
        if self._keys is None:
            messages, presses = self.message, self.callback_query
            self._keys = (
                None if self._open(messages) else command_keys(messages.handlers),
                None if self._open(presses) else button_keys(presses.handlers),
            )
        return self._keys

    def _open(self, observer: TelegramEventObserver) -> bool:
        """Whether updates of this kind must be offered whatever the keys: sub-routers may take
        them, and outer middlewares run for every update offered."""
        return bool(self.sub_routers) or len(observer.outer_middleware) > 0

    def takes(self, update_type: str, event: TelegramObject) -> bool:
        """Whether any handler here may take the update (False only when none can)."""
        commands, buttons = self.keys()
        if update_type == "message" and commands is not None and isinstance(event, Message):
            return may_be_command(event.text or event.caption, commands)
        if update_type == "callback_query" and buttons is not None:
            return isinstance(event, CallbackQuery) and may_be_button(event.data, buttons)
        return True

    async def propagate_event(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        """Offer the update as aiogram does, unless none of the handlers here can take it."""
        if not self.takes(update_type, event):
            return UNHANDLED
        return await super().propagate_event(update_type, event, **kwargs)


__all__ = ["KeyedRouter", "button_keys", "command_keys", "may_be_button", "may_be_command"]
