"""Replies every admin router shares: plain-text sending and the text of a refusal.

Replies carry admin data and typed arguments, so they go out as plain text (no parse mode):
nothing an admin or a customer typed can break the markup.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot

from bot.texts import day, moment, money, t
from handlers.admin import words
from payments.admin.results import Refusal
from payments.types import UserInfo
from settings import Settings

MESSAGE_LIMIT = 4000


def _value(lang: str, value: object, tz: ZoneInfo) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # a count: the text picks its plural form
    if isinstance(value, Decimal):
        return money(value, lang)
    if isinstance(value, datetime):
        return moment(lang, value, tz)
    if isinstance(value, date):
        return day(lang, value)
    return "—" if value is None else str(value)


def refusal_text(lang: str, refusal: Refusal, tz: ZoneInfo) -> str:
    """Say why an action was refused, with its values formatted for people."""
    values = {name: _value(lang, value, tz) for name, value in refusal.values.items()}
    if isinstance(status := refusal.values.get("status"), str):
        values["status"] = words.payment_status(lang, status)
    return t(lang, f"adm_no_{refusal.reason}", **values)


def short_moment(value: datetime, tz: ZoneInfo) -> str:
    """Render a moment as `DD.MM HH:MM` in the shop's time zone."""
    return f"{value.astimezone(tz):%d.%m %H:%M}"


def clip(text: str) -> str:
    """Cut a text to what one message holds."""
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


async def say(bot: Bot, chat_id: int, text: str, **kwargs: Any) -> None:
    """Send plain text: admin data never goes through a parse mode."""
    await bot.send_message(chat_id, text, parse_mode=None, **kwargs)


async def refused(bot: Bot, chat_id: int, user: UserInfo, settings: Settings, exc: Refusal) -> None:
    """Tell the admin why the action was refused."""
    await say(bot, chat_id, refusal_text(user.language, exc, settings.tz))
