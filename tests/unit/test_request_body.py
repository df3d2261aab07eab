"""Calls without files go as JSON carrying what aiogram's form would; the rest stay forms."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import (
    AnswerCallbackQuery,
    BanChatMember,
    EditMessageText,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
)
from aiohttp import FormData
from aiohttp.payload import BytesPayload

from bot import keyboards_calendar
from bot.factory import PinnedResponseSession
from bot.request_body import JsonBody
from payments.i18n import prepare

MARKUP = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Оплатить", callback_data="pay:1")]]
)


def _session(bot: Bot) -> PinnedResponseSession:
    assert isinstance(bot.session, PinnedResponseSession)
    return bot.session


def _form_fields(bot: Bot, method: TelegramMethod[Any]) -> dict[str, object]:
    """What aiogram's own form carries, each field decoded as the Bot API reads it."""
    form = AiohttpSession.build_form_data(_session(bot), bot, method)
    fields: dict[str, object] = {}
    for options, _headers, value in form._fields:
        try:
            fields[options["name"]] = json.loads(value)
        except ValueError:  # a plain string field (the text itself)
            fields[options["name"]] = value
    return fields


async def _calendar() -> InlineKeyboardMarkup:
    await prepare("ru")
    today = date(2026, 12, 4)
    return keyboards_calendar.dates(
        "ru",
        today=today,
        month=today,
        bookable={date(2026, 12, d) for d in range(4, 32)},
        closed_weekdays=[0],
        last_day=date(2027, 2, 1),
    )


async def test_a_call_without_files_goes_as_json_with_the_forms_fields(bot: Bot) -> None:
    methods: list[TelegramMethod[Any]] = [
        SendMessage(chat_id=7, text="Выберите дату", reply_markup=await _calendar()),
        SendMessage(chat_id=7, text="plain", parse_mode=None, protect_content=True),
        SendMessage(
            chat_id="@shop",
            text="<b>2 500,00 ₽</b>",
            link_preview_options=LinkPreviewOptions(
                is_disabled=False,
                url="https://zoo.example/",
                prefer_small_media=True,
                prefer_large_media=False,
                show_above_text=True,
            ),
        ),
        EditMessageText(chat_id=7, message_id=3, text="Оплачено", reply_markup=MARKUP),
        AnswerCallbackQuery(callback_query_id="q1", text="", show_alert=False),
    ]
    for method in methods:
        body = _session(bot).build_form_data(bot, method)
        assert isinstance(body, JsonBody), method
        payload = body()
        assert isinstance(payload, BytesPayload)
        assert payload.content_type == "application/json"
        assert json.loads(payload._value) == _form_fields(bot, method), method


async def test_the_bots_defaults_are_resolved_as_aiogram_resolves_them(bot: Bot) -> None:
    body = _session(bot).build_form_data(bot, SendMessage(chat_id=7, text="hi"))
    assert isinstance(body, JsonBody)
    sent = json.loads(body()._value)
    assert sent["parse_mode"] == "HTML"
    assert sent["link_preview_options"] == {"is_disabled": True}
    assert "protect_content" not in sent  # no default: left out, not null


async def test_calls_json_cannot_carry_as_aiogram_would_stay_forms(bot: Bot) -> None:
    photo = BufferedInputFile(b"\x89PNG", filename="ticket.png")
    methods: list[TelegramMethod[Any]] = [
        SendPhoto(chat_id=7, photo=photo, caption="Билет"),
        SendMediaGroup(
            chat_id=7, media=[InputMediaPhoto(media=photo), InputMediaPhoto(media=photo)]
        ),
        # A nested default that resolves to nothing: aiogram leaves it out, JSON would say null.
        SendMediaGroup(
            chat_id=7, media=[InputMediaPhoto(media="AgAD1"), InputMediaPhoto(media="AgAD2")]
        ),
        SendMessage(
            chat_id=7,
            text="hi",
            link_preview_options=LinkPreviewOptions(url="https://zoo.example/"),
        ),
        BanChatMember(chat_id=7, user_id=8, until_date=datetime(2027, 1, 1, tzinfo=UTC)),
    ]
    for method in methods:
        body = _session(bot).build_form_data(bot, method)
        assert type(body) is FormData, method
