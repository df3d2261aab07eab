"""/checkin: let a ticket in by its QR's content (signature checked) or its printed code.

Admins and gate staff (STAFF_IDS) may use it; the check-in records them and the device "chat".
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.texts import day, moment, t
from handlers.admin import words
from handlers.admin.replies import refused, say
from payments.admin.console import AdminConsole
from payments.admin.results import Refusal
from payments.catalog import Catalog
from payments.receipts import ticket_title
from payments.types import UserInfo
from settings import Settings

# Signed QR content is about 160 characters; a typed code far less.
MAX_SCANNED = 512


async def cmd_checkin(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Let a ticket in by its QR's content or its printed code."""
    # The QR's content as a scanner app pastes it, or the code as typed: spaces, dashes and
    # case do not matter (payments/tickets/codes.py).
    code = " ".join((command.args or "").split())
    if not code or len(code) > MAX_SCANNED:
        await say(bot, message.chat.id, t(user.language, "adm_usage_checkin"))
        return
    lang = user.language
    try:
        done = await admin.checkin.check_in(int(user.id), code)
    except Refusal as exc:
        await refused(bot, message.chat.id, user, settings, exc)
        return
    await say(
        bot,
        message.chat.id,
        t(
            lang,
            "adm_checkin_done",
            title=ticket_title(catalog, done.ticket_type, lang),
            date=day(lang, done.visit_date),
            time=done.slot_time,
            ids=words.ids(lang, done.payment_id, done.order_id, done.provider_id),
            name=done.user_name,
            user_id=done.user_id,
            at=moment(lang, done.checked_in_at, settings.tz),
        ),
    )


def create_router() -> Router:
    """Build the /checkin router."""
    router = Router(name=__name__)
    router.message.register(cmd_checkin, Command("checkin"))
    return router
