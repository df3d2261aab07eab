"""The pay message: how long its link lives, and retiring it so only one live Pay is shown."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.texts import t
from payments.checkout.results import CheckoutResult

log = logging.getLogger(__name__)


def minutes_left(result: CheckoutResult, now: datetime) -> int:
    """Whole minutes (rounded up, at least 1) until the payment's hold ends."""
    return max(1, math.ceil((result.expires_at - now).total_seconds() / 60))


async def retire(
    bot: Bot, chat_id: int, message_id: int, lang: str, text: str | None = None
) -> None:
    """Replace a message's pay buttons with a line saying why (by default: the link moved)."""
    try:
        await bot.edit_message_text(
            text=text or t(lang, "pay_message_moved"), chat_id=chat_id, message_id=message_id
        )
    except TelegramAPIError as exc:
        log.info("pay message %s of chat %s not retired: %s", message_id, chat_id, exc)
