"""/export: the payments (and the admin log) of the last days as CSV documents."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import FSInputFile, Message

from bot.texts import t
from handlers.admin.parsing import parse_count
from handlers.admin.replies import refused, say
from payments.admin.console import AdminConsole
from payments.admin.results import Refusal
from payments.types import UserInfo
from settings import Settings

DEFAULT_EXPORT_DAYS = 30


async def send_export(
    bot: Bot, chat_id: int, user: UserInfo, admin: AdminConsole, settings: Settings, days: int
) -> None:
    """Send the two CSV files of the last `days` days, or why not."""
    lang = user.language
    try:
        files = await admin.export.export(int(user.id), days)
    except Refusal as exc:
        await refused(bot, chat_id, user, settings, exc)
        return
    with files:  # the temporary files are removed once sent (or on failure)
        for parts, caption in (
            (files.payments_parts, t(lang, "adm_export_payments", days=days, count=files.payments)),
            (files.audit_parts, t(lang, "adm_export_audit", days=days, count=files.audit_rows)),
        ):
            for number, path in enumerate(parts, start=1):
                text = caption
                if len(parts) > 1:
                    text += "\n" + t(lang, "adm_export_part", part=number, parts=len(parts))
                await bot.send_document(
                    chat_id, FSInputFile(path, filename=path.name), caption=text, parse_mode=None
                )


async def cmd_export(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    settings: Settings,
) -> None:
    """Send the payments (and the admin log) of the last days as CSV documents."""
    args = (command.args or "").split()
    days = DEFAULT_EXPORT_DAYS if not args else (parse_count(args[0]) if len(args) == 1 else None)
    if days is None:
        await say(bot, message.chat.id, t(user.language, "adm_usage_export"))
        return
    await send_export(bot, message.chat.id, user, admin, settings, days)


def create_router() -> Router:
    """Build the /export router."""
    router = Router(name=__name__)
    router.message.register(cmd_export, Command("export"))
    return router
