"""Updates and answers read with each inline keyboard validated once, and nothing else changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError
from aiogram.methods import GetUpdates, SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.known_keyboards import KnownKeyboards


def _keyboard(*labels: str) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [{"text": label, "callback_data": f"td:{n}"}] for n, label in enumerate(labels)
        ]
    }


def _message(chat: int, keyboard: dict[str, Any] | None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 5,
        "date": 1_780_000_000,
        "chat": {"id": chat, "type": "private", "first_name": "Buyer"},
        "from": {"id": 42, "is_bot": True, "first_name": "Zoo", "username": "zoo_bot"},
        "text": "Выберите дату",
    }
    if keyboard is not None:
        message["reply_markup"] = keyboard
    return message


def _press(update_id: int, chat: int, keyboard: dict[str, Any]) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": chat, "is_bot": False, "first_name": "Buyer", "language_code": "ru"},
            "chat_instance": "1",
            "data": "td:0",
            "message": _message(chat, keyboard),
        },
    }


def _known(bot: Bot) -> KnownKeyboards:
    reader = bot.session.json_loads
    assert isinstance(reader.__self__, KnownKeyboards)  # type: ignore[attr-defined]
    return reader.__self__  # type: ignore[attr-defined]


def _updates(bot: Bot, answer: str) -> list[Update]:
    updates = bot.session.check_response(bot, GetUpdates(), 200, answer).result
    assert updates is not None
    return updates


def _pressed_keyboard(update: Update) -> object:
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    return query.message.reply_markup


def _echoed_keyboard(bot: Bot, message: dict[str, Any]) -> object:
    echo = json.dumps({"ok": True, "result": message})
    sent = bot.session.check_response(bot, SendMessage(chat_id=7001, text="x"), 200, echo).result
    assert sent is not None
    return sent.reply_markup


async def test_a_keyboard_every_press_carries_is_validated_once(bot: Bot) -> None:
    calendar = _keyboard("4", "5", "6")
    answer = json.dumps(
        {"ok": True, "result": [_press(1, 7001, calendar), _press(2, 7002, calendar)]}
    )
    known = _known(bot)
    first, second = _updates(bot, answer)
    one = _pressed_keyboard(first)
    assert _pressed_keyboard(second) is one  # one model for both presses
    assert known.validated == 1
    # The answer to a send echoes a keyboard seen before: not validated again.
    assert _echoed_keyboard(bot, _message(7001, calendar)) is one
    assert known.validated == 1
    # Another keyboard is another model.
    assert _echoed_keyboard(bot, _message(7001, _keyboard("10:00", "12:00"))) is not one
    assert known.validated == 2


async def test_what_handlers_get_is_what_aiogram_alone_would_give_them(bot: Bot) -> None:
    answer = json.dumps(
        {
            "ok": True,
            "result": [
                _press(1, 7001, _keyboard("4", "5")),
                _press(2, 7002, _keyboard("4", "5")),
                {"update_id": 3, "message": _message(7003, None)},
            ],
        },
        ensure_ascii=False,
    )
    plain = AiohttpSession()
    try:
        expected = plain.check_response(bot, GetUpdates(), 200, answer).result
    finally:
        await plain.close()
    got = _updates(bot, answer)
    assert got == expected
    markup = _pressed_keyboard(got[0])
    assert isinstance(markup, InlineKeyboardMarkup)
    assert (
        markup.model_dump()
        == InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="4", callback_data="td:0")],
                [InlineKeyboardButton(text="5", callback_data="td:1")],
            ]
        ).model_dump()
    )


async def test_a_broken_keyboard_is_refused_as_aiogram_refuses_it(bot: Bot) -> None:
    broken = {"inline_keyboard": [[{"callback_data": "td:0"}]]}  # a button without its text
    answer = json.dumps({"ok": True, "result": [_press(1, 7001, broken)]})
    with pytest.raises(ClientDecodeError):
        bot.session.check_response(bot, GetUpdates(), 200, answer)
    assert _known(bot).validated == 0


def test_the_least_recently_used_keyboard_is_forgotten_first() -> None:
    known = KnownKeyboards(kept=2)
    first, second, third = (_keyboard(label) for label in ("a", "b", "c"))
    for keyboard in (first, second, first, third):  # `second` is the least recently used
        known.loads(json.dumps({"reply_markup": keyboard}))
    assert known.validated == 3
    known.loads(json.dumps({"reply_markup": first}))
    assert known.validated == 3  # still remembered
    known.loads(json.dumps({"reply_markup": second}))
    assert known.validated == 4  # forgotten, validated again
