"""/capacity: the seats of one slot on one date."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.texts import day, t
from handlers.admin.parsing import parse_clock, parse_count, parse_day
from handlers.admin.replies import refused, say
from payments.admin.console import AdminConsole
from payments.admin.results import Refusal
from payments.types import UserInfo
from settings import Settings


async def cmd_capacity(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    settings: Settings,
) -> None:
    """Set the capacity of one slot on one date."""
    args = (command.args or "").split()
    parsed = (
        (parse_day(args[0]), parse_clock(args[1]), parse_count(args[2]))
        if len(args) == 3
        else (None, None, None)
    )
    visit_date, slot_time, seats = parsed
    if visit_date is None or slot_time is None or seats is None:
        await say(bot, message.chat.id, t(user.language, "adm_usage_capacity"))
        return
    try:
        result = await admin.capacity.set_capacity(int(user.id), visit_date, slot_time, seats)
    except Refusal as exc:
        await refused(bot, message.chat.id, user, settings, exc)
        return
    await say(
        bot,
        message.chat.id,
        t(
            user.language,
            "adm_capacity_done",
            date=day(user.language, result.visit_date),
            time=result.slot_time,
            capacity=result.capacity,
            taken=result.taken,
            sold=result.sold,
            on_hold=result.on_hold,
            free=max(0, result.capacity - result.taken),
        ),
    )


def create_router() -> Router:
    """Build the /capacity router."""
    router = Router(name=__name__)
    router.message.register(cmd_capacity, Command("capacity"))
    return router
