"""/admin: the console's menu, whose buttons run figures, prices, export or show the help."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import AdminCb
from bot.texts import t
from handlers.admin.export import DEFAULT_EXPORT_DAYS, send_export
from handlers.admin.figures import send_stats
from handlers.admin.prices import send_prices
from handlers.admin.replies import say
from payments.admin.console import AdminConsole
from payments.catalog import Catalog
from payments.types import UserInfo
from settings import Settings

log = logging.getLogger(__name__)


async def cmd_admin(message: Message, user: UserInfo) -> None:
    """Show the admin menu."""
    await message.answer(
        t(user.language, "adm_menu"),
        reply_markup=keyboards.admin_menu(user.language),
        parse_mode=None,
    )


async def on_menu(
    query: CallbackQuery,
    callback_data: AdminCb,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Run a menu button: figures, prices, export, or the commands' help."""
    await query.answer()
    chat_id = query.from_user.id
    lang = user.language
    if callback_data.action == "stats":
        await send_stats(bot, chat_id, user, admin, settings)
    elif callback_data.action == "prices":
        await send_prices(bot, chat_id, user, admin, catalog)
    elif callback_data.action == "export":
        await send_export(bot, chat_id, user, admin, settings, DEFAULT_EXPORT_DAYS)
    elif isinstance(query.message, Message):
        try:
            await query.message.edit_text(
                t(lang, "adm_help"), reply_markup=keyboards.admin_menu(lang), parse_mode=None
            )
        except TelegramBadRequest as exc:  # pressed twice: "message is not modified"
            log.debug("admin help not edited: %s", exc)
    else:
        await say(bot, chat_id, t(lang, "adm_help"))


def create_router() -> Router:
    """Build the /admin menu router with its buttons."""
    router = Router(name=__name__)
    router.message.register(cmd_admin, Command("admin"))
    router.callback_query.register(on_menu, AdminCb.filter())
    return router
