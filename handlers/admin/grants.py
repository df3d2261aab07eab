"""/grant: days of subscription an admin gives a user."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.texts import moment, t
from handlers.admin.parsing import parse_count
from handlers.admin.replies import refused, say
from payments.admin.console import AdminConsole
from payments.admin.results import Refusal
from payments.types import UserInfo
from settings import Settings


async def cmd_grant(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    settings: Settings,
) -> None:
    """Give a user days of subscription."""
    args = (command.args or "").split()
    days = parse_count(args[1]) if len(args) == 2 else None
    if days is None or len(args[0]) > 64:
        await say(bot, message.chat.id, t(user.language, "adm_usage_grant"))
        return
    try:
        result = await admin.grants.grant(int(user.id), args[0], days)
    except Refusal as exc:
        await refused(bot, message.chat.id, user, settings, exc)
        return
    date_text = moment(user.language, result.expires_at, settings.tz)
    await say(
        bot,
        message.chat.id,
        t(user.language, "adm_grant_done", user_id=result.user_id, days=days, date=date_text),
    )


def create_router() -> Router:
    """Build the /grant router."""
    router = Router(name=__name__)
    router.message.register(cmd_grant, Command("grant"))
    return router
