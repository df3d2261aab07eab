"""Who reaches the console: the cheap gate in front of it, and the refusal for non-admins.

Gate staff (STAFF_IDS) reach /checkin and nothing else; admins reach everything. The
predicates are coroutine functions: aiogram hands a plain function to a worker thread on every
update it checks (see bot/filters.py).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.callbacks import AdminCb, BroadcastCb, RefundCb, SubscriptionCb
from bot.texts import lang_of, t
from payments.types import UserInfo

log = logging.getLogger(__name__)

ADMIN_COMMANDS = (
    "admin",
    "stats",
    "payment",
    "refund",
    "grant",
    "prices",
    "setprice",
    "capacity",
    "checkin",
    "broadcast",
    "export",
    "subscription",
)
ADMIN_BUTTON_PREFIXES = frozenset(
    {AdminCb.__prefix__, BroadcastCb.__prefix__, RefundCb.__prefix__, SubscriptionCb.__prefix__}
)


async def admin_command(message: Message) -> bool:
    """Whether a message is one of the admin commands (as aiogram's Command would parse it)."""
    text = message.text or message.caption or ""
    if not text.startswith("/"):
        return False
    first = text.split(maxsplit=1)[0]
    return first[1:].split("@", 1)[0] in ADMIN_COMMANDS


async def admin_button(query: CallbackQuery) -> bool:
    """Whether a button press carries admin callback data."""
    return (query.data or "").split(AdminCb.__separator__, 1)[0] in ADMIN_BUTTON_PREFIXES


async def is_admin(_: TelegramObject, user: UserInfo | None = None) -> bool:
    """Whether the sender is one of ADMIN_IDS."""
    return user is not None and user.is_admin


async def is_staff(_: TelegramObject, user: UserInfo | None = None) -> bool:
    """Whether the sender may check tickets in: gate staff (STAFF_IDS) or an admin."""
    return user is not None and (user.is_admin or user.is_staff)


async def is_not_admin(event: TelegramObject, user: UserInfo | None = None) -> bool:
    """Whether the sender is anyone else."""
    return not await is_admin(event, user)


def _lang(user: UserInfo | None, event: Message | CallbackQuery) -> str:
    if user is not None:
        return user.language
    return lang_of(event.from_user.language_code if event.from_user else None)


async def on_refused(message: Message, user: UserInfo | None = None) -> None:
    """Tell anyone who is not an admin that the command is not there; show nothing else."""
    log.info("admin command refused to %s", user.id if user else "an unknown sender")
    await message.answer(t(_lang(user, message), "adm_not_available"))


async def on_refused_button(query: CallbackQuery, user: UserInfo | None = None) -> None:
    """Refuse an admin button pressed by someone who is not an admin."""
    log.info("admin button refused to %s", user.id if user else "an unknown sender")
    await query.answer(t(_lang(user, query), "adm_not_available"), show_alert=True)


def create_refusals_router() -> Router:
    """Build the router that politely refuses admin commands and buttons to everyone else."""
    refusals = Router(name=f"{__name__}.refusals")
    refusals.message.filter(is_not_admin)
    refusals.callback_query.filter(is_not_admin)
    refusals.message.register(on_refused, Command(*ADMIN_COMMANDS))
    refusals.callback_query.register(on_refused_button, AdminCb.filter())
    refusals.callback_query.register(on_refused_button, BroadcastCb.filter())
    refusals.callback_query.register(on_refused_button, RefundCb.filter())
    refusals.callback_query.register(on_refused_button, SubscriptionCb.filter())
    return refusals
