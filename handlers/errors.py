"""Last resort: unknown input gets a hint, and any error a polite answer and a log line."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ErrorEvent, Message, User

from bot.texts import lang_of, t
from payments.types import UserInfo

log = logging.getLogger(__name__)


def _lang(user: UserInfo | None, sender: User | None) -> str:
    """The user's stored language; Telegram's language code when the upsert did not run."""
    if user is not None:
        return user.language
    return lang_of(sender.language_code if sender else None)


async def on_unknown_message(message: Message, user: UserInfo | None = None) -> None:
    """Point anything unrecognised at /help."""
    await message.answer(t(_lang(user, message.from_user), "unknown"))


async def on_stale_button(query: CallbackQuery, user: UserInfo | None = None) -> None:
    """Answer buttons no handler claims (old keyboards) without changing anything."""
    await query.answer(t(_lang(user, query.from_user), "stale_button"), show_alert=True)


async def on_error(event: ErrorEvent, user: UserInfo | None = None) -> bool:
    """Log the failure with the update id and answer the user politely."""
    update = event.update
    log.error(
        "update %s failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    sender = update.message.from_user if update.message else None
    if update.callback_query:
        sender = update.callback_query.from_user
    lang = _lang(user, sender)
    try:
        if update.callback_query:
            await update.callback_query.answer(t(lang, "error"), show_alert=True)
        elif update.message:
            await update.message.answer(t(lang, "error"))
    except TelegramAPIError as exc:
        log.warning("could not tell update %s about the error: %s", update.update_id, exc)
    return True


def create_router() -> Router:
    """Build the fallback router: include it last so it only sees what nobody else claimed."""
    router = Router(name=__name__)
    router.message.register(on_unknown_message)
    router.callback_query.register(on_stale_button)
    router.error.register(on_error)
    return router
