"""The shell: /start, /help and the main menu."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.callbacks import MenuCb
from bot.keyboards import back_to_menu, main_menu
from bot.routing import KeyedRouter
from bot.texts import t, with_address
from payments.catalog import Catalog
from payments.types import UserInfo


async def cmd_start(
    message: Message, user: UserInfo, catalog: Catalog, shop_url: str | None = None
) -> None:
    """Greet the user and show the main menu (with the Mini App when it can be opened)."""
    name = user.first_name or t(user.language, "friend")
    await message.answer(
        t(user.language, "start", name=name, shop=catalog.shop.name),
        reply_markup=main_menu(user.language, shop_url),
    )


def _help(lang: str, catalog: Catalog) -> str:
    return with_address(t(lang, "help"), catalog.shop, lang)


async def cmd_help(message: Message, user: UserInfo, catalog: Catalog) -> None:
    """Explain what the bot does, where the zoo is and when it is open."""
    lang = user.language
    await message.answer(_help(lang, catalog), reply_markup=back_to_menu(lang))


async def on_help(query: CallbackQuery, user: UserInfo, catalog: Catalog) -> None:
    """Show the help in place of the menu."""
    if isinstance(query.message, Message):
        lang = user.language
        await query.message.edit_text(_help(lang, catalog), reply_markup=back_to_menu(lang))
    await query.answer()


async def on_menu(query: CallbackQuery, user: UserInfo, shop_url: str | None = None) -> None:
    """Return to the main menu in place."""
    if isinstance(query.message, Message):
        await query.message.edit_text(
            t(user.language, "menu"), reply_markup=main_menu(user.language, shop_url)
        )
    await query.answer()


def create_router() -> KeyedRouter:
    """Build the shell's router."""
    router = KeyedRouter(name=__name__)
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.callback_query.register(on_help, MenuCb.filter(F.action == "help"))
    router.callback_query.register(on_menu, MenuCb.filter(F.action == "menu"))
    return router
