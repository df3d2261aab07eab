"""The bot's language: /language and the menu's 🌐 button; the pick is stored on the user."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.callbacks import LangCb, MenuCb
from bot.keyboards import language_choice, main_menu
from bot.middlewares import UserMiddleware
from bot.routing import KeyedRouter
from bot.texts import languages, t
from payments.types import UserInfo


async def cmd_language(message: Message, user: UserInfo) -> None:
    """Offer the languages there are locale files for."""
    await message.answer(
        t(user.language, "language_pick"), reply_markup=language_choice(user.language)
    )


async def on_menu_language(query: CallbackQuery, user: UserInfo) -> None:
    """Offer the languages in place of the menu."""
    if isinstance(query.message, Message):
        await query.message.edit_text(
            t(user.language, "language_pick"), reply_markup=language_choice(user.language)
        )
    await query.answer()


async def on_language(
    query: CallbackQuery,
    callback_data: LangCb,
    user: UserInfo,
    user_middleware: UserMiddleware,
    shop_url: str | None = None,
) -> None:
    """Store the pick and show the menu in the new language."""
    lang = callback_data.code
    if lang not in languages():
        await query.answer(t(user.language, "stale_button"), show_alert=True)
        return
    await user_middleware.choose_language(user.id, lang)
    text = f"{t(lang, 'language_set')}\n\n{t(lang, 'menu')}"
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=main_menu(lang, shop_url))
    await query.answer()


def create_router() -> KeyedRouter:
    """Build the language router."""
    router = KeyedRouter(name=__name__)
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(on_menu_language, MenuCb.filter(F.action == "language"))
    router.callback_query.register(on_language, LangCb.filter())
    return router
