"""The pay message: how long its link lives, and retiring it so only one live Pay is shown."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.texts import t
from payments.checkout.errors import ProviderDown, TooManyPending, TooManyUnpaidSeats
from payments.checkout.results import CheckoutResult

log = logging.getLogger(__name__)


# Refusals every way of starting a payment can meet; each handler adds its own (sold out, ...).
Refused = TooManyUnpaidSeats | TooManyPending | ProviderDown


def refusal(lang: str, exc: Refused) -> str:
    """Say why a payment could not be started: the alert text for a refusal any checkout meets."""
    if isinstance(exc, TooManyUnpaidSeats):
        return t(lang, "too_many_unpaid_seats", held=exc.held, max=exc.limit)
    if isinstance(exc, TooManyPending):
        return t(lang, "too_many_pending", minutes=max(1, exc.retry_after // 60))
    return t(lang, "provider_down")


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
