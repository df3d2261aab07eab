"""Keyed routers turn away only what none of their handlers could take (bot/routing.py).

Soundness is checked against aiogram's own parsing: for every command any router answers and
every button the bot draws, in the forms a customer can send them, a router that turns the
update away has no handler whose `Command` or `CallbackData` filter would have parsed it.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.filters.command import CommandException
from aiogram.types import CallbackQuery, Chat, Message, User

from bot import callbacks
from bot.routing import KeyedRouter
from handlers import get_routers

T = TypeVar("T")

CUSTOMER = User(id=7, is_bot=False, first_name="C")
CHAT = Chat(id=7, type="private")


def message(text: str | None = None, caption: str | None = None) -> Message:
    return Message(
        message_id=1,
        date=datetime(2026, 12, 5, tzinfo=UTC),
        chat=CHAT,
        from_user=CUSTOMER,
        text=text,
        caption=caption,
    )


def press(data: str | None) -> CallbackQuery:
    return CallbackQuery(
        id="1", from_user=CUSTOMER, chat_instance="c", data=data, message=message("screen")
    )


def all_routers() -> list[Router]:
    found: list[Router] = []

    def walk(router: Router) -> None:
        found.append(router)
        for sub in router.sub_routers:
            walk(sub)

    for router in get_routers():
        walk(router)
    return found


def filters_of(handlers: list[HandlerObject], kind: type[T]) -> list[T]:
    return [f.callback for h in handlers for f in h.filters or () if isinstance(f.callback, kind)]


def command_filters(router: Router) -> list[Command]:
    return filters_of(router.message.handlers, Command)


def button_filters(router: Router) -> list[CallbackQueryFilter]:
    return filters_of(router.callback_query.handlers, CallbackQueryFilter)


def texts() -> list[str | None]:
    """Every command any router answers, as typed in the ways Telegram delivers it."""
    names = {
        str(name)
        for router in all_routers()
        for c in command_filters(router)
        for name in c.commands
    }
    corpus: list[str | None] = [None, "", "  ", "hello", "/", "/nope", "my", "!my", "a@b.ru"]
    for name in sorted(names):
        corpus += [
            f"/{name}",
            f"/{name.upper()}",
            f"/{name}@zoo_bot",
            f"/{name} 42",
            f"/{name}\nmore",
            f" /{name}",
            f"x /{name}",
            f"/{name}x",
        ]
    return corpus


def button_data() -> list[str | None]:
    """Every button class the bot draws, packed with plausible values, and near misses."""
    corpus: list[str | None] = [None, "", ":", "x", "garbage:1", "m", "m:", "tn:pay:extra"]
    for _, kind in inspect.getmembers(callbacks, inspect.isclass):
        if not issubclass(kind, CallbackData) or kind is CallbackData:
            continue
        values: dict[str, Any] = {
            name: 1 if field.annotation in (int, "int") else "pay"
            for name, field in kind.model_fields.items()
        }
        packed = kind(**values).pack()
        prefix = kind.__prefix__
        corpus += [packed, prefix, f"{prefix}:", f"{prefix}x:1", f"x{prefix}:1", f"{prefix}-1"]
    return corpus


def parses_command(command: Command, text: str | None) -> bool:
    """Whether aiogram's Command filter parses the text as one of its commands (the bot's
    mention and the filter's magic aside: both only narrow further)."""
    if not text:
        return False
    try:
        found = command.extract_command(text)
        command.validate_prefix(found)
        command.validate_command(found)
    except CommandException:
        return False
    return True


def parses_button(button: CallbackQueryFilter, data: str | None) -> bool:
    """Whether aiogram's CallbackData filter unpacks the data (its rule aside: it only narrows)."""
    if not data:
        return False
    try:
        button.callback_data.unpack(data)
    except (TypeError, ValueError):
        return False
    return True


KEYED = [r for r in all_routers() if isinstance(r, KeyedRouter)]


@pytest.mark.parametrize("router", KEYED, ids=lambda r: r.name)
def test_a_keyed_router_turns_away_no_command_its_handlers_take(router: KeyedRouter) -> None:
    for text in texts():
        for event in (message(text=text), message(caption=text)):
            if router.takes("message", event):
                continue
            parsed = [c for c in command_filters(router) if parses_command(c, text)]
            assert parsed == [], f"{router.name} turned away {text!r}"


@pytest.mark.parametrize("router", KEYED, ids=lambda r: r.name)
def test_a_keyed_router_turns_away_no_button_its_handlers_take(router: KeyedRouter) -> None:
    for data in button_data():
        if router.takes("callback_query", press(data)):
            continue
        parsed = [b for b in button_filters(router) if parses_button(b, data)]
        assert parsed == [], f"{router.name} turned away {data!r}"


def test_a_journey_press_and_a_command_skip_the_routers_that_cannot_take_them() -> None:
    """What the keys are for: a ticket journey's press is offered to the routers that may take
    it (the interruption, the admin console's gate, the journey, the errors), not to eight
    more; /my to the interruption and /my's own router only, of those before it."""
    routers = get_routers()
    step = press(callbacks.TNavCb(action="next").pack())
    offered = [
        r.name for r in routers if not isinstance(r, KeyedRouter) or r.takes("callback_query", step)
    ]
    assert offered == [
        "handlers.interrupt",
        "handlers.admin",
        "handlers.tickets",
        "handlers.errors",
    ]
    my = message(text="/my")
    offered = [r.name for r in routers if not isinstance(r, KeyedRouter) or r.takes("message", my)]
    assert offered[:2] == ["handlers.interrupt", "handlers.my"]
    # A free text (the journey's e-mail step) still reaches the journey and the errors router.
    email = message(text="buyer@example.com")
    offered = [
        r.name for r in routers if not isinstance(r, KeyedRouter) or r.takes("message", email)
    ]
    assert offered == ["handlers.admin", "handlers.stars", "handlers.tickets", "handlers.errors"]


async def test_a_turned_away_update_is_unhandled_and_an_open_router_takes_everything() -> None:
    keyed = KeyedRouter(name="keyed")

    async def answer(_: Message) -> str:
        return "answered"

    keyed.message.register(answer, Command("my"))
    bot = Bot("42:TEST")
    assert await keyed.propagate_event("message", message(text="/tickets"), bot=bot) is UNHANDLED
    assert await keyed.propagate_event("message", message(text="/my"), bot=bot) == "answered"
    # A sub-router may take anything, so a router with one is offered everything.
    opened = KeyedRouter(name="opened")
    opened.message.register(answer, Command("my"))
    opened.include_router(Router(name="inner2"))
    assert opened.takes("message", message(text="/tickets"))
