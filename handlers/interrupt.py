"""A menu command or menu button in the middle of the ticket journey ends the journey first.

The handlers here say so and step aside (SkipHandler): the command itself is then answered by
its own router, as if no journey had been in progress.
"""

from __future__ import annotations

from aiogram import Bot, F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.filters import Magic
from bot.routing import KeyedRouter
from bot.texts import t
from handlers.tickets.journey import CHOOSING, end_journey
from payments.types import UserInfo

# Every command of the menu but /cancel, which ends the journey its own way.
MENU_COMMANDS = ("start", "help", "tickets", "subscribe", "my")


async def on_menu_command(message: Message, state: FSMContext, bot: Bot, user: UserInfo) -> None:
    """End the journey, say so, then let the command run."""
    if await end_journey(state, bot, user):
        await message.answer(t(user.language, "journey_interrupted"))
    raise SkipHandler


async def on_menu_button(query: CallbackQuery, state: FSMContext, bot: Bot, user: UserInfo) -> None:
    """End the journey when a menu button of another message is pressed, then let it run."""
    journey_message = (await state.get_data()).get("msg_id")
    pressed = query.message.message_id if query.message else None
    if pressed != journey_message:
        await end_journey(state, bot, user)
    raise SkipHandler


def create_router() -> KeyedRouter:
    """Build the interrupting router: include it first."""
    router = KeyedRouter(name=__name__)
    router.message.register(on_menu_command, Command(*MENU_COMMANDS), StateFilter(*CHOOSING))
    router.callback_query.register(
        on_menu_button, Magic(F.data.startswith(("m:", "nx:"))), StateFilter(*CHOOSING)
    )
    return router
