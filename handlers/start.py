"""The shell: /start, /help and the main menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.callbacks import MenuCb
from bot.keyboards import back_to_menu, main_menu
from bot.texts import t
from payments.catalog import Catalog
from payments.types import UserInfo


async def cmd_start(message: Message, user: UserInfo, catalog: Catalog) -> None:
    """Greet the user and show the main menu."""
    name = user.first_name or t(user.language, "friend")
    await message.answer(
        t(user.language, "start", name=name, shop=catalog.shop.name),
        reply_markup=main_menu(user.language),
    )


async def cmd_help(message: Message, user: UserInfo) -> None:
    """Explain what the bot does."""
    await message.answer(t(user.language, "help"), reply_markup=back_to_menu(user.language))


async def on_help(query: CallbackQuery, user: UserInfo) -> None:
    """Show the help in place of the menu."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            t(user.language, "help"), reply_markup=back_to_menu(user.language)
        )


async def on_menu(query: CallbackQuery, user: UserInfo) -> None:
    """Return to the main menu in place."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            t(user.language, "menu"), reply_markup=main_menu(user.language)
        )


def create_router() -> Router:
    """Build the shell's router."""
    router = Router(name=__name__)
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.callback_query.register(on_help, MenuCb.filter(F.action == "help"))
    router.callback_query.register(on_menu, MenuCb.filter(F.action == "menu"))
    return router
