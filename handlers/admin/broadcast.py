"""/broadcast and its buttons: confirm, cancel or stop a message to every customer.

Broadcasts keep the admin's formatting, as HTML: the preview looks exactly like what the
recipients will get. Confirming queues one outbox message per recipient; the sending lane
delivers them and a watcher (bot.broadcast.Broadcasts) edits the progress message.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.broadcast import Broadcasts, progress_text
from bot.callbacks import BroadcastCb
from bot.texts import t
from handlers.admin.replies import say
from payments.admin.broadcast import BroadcastProgress, ProgressSpot
from payments.admin.console import AdminConsole
from payments.types import UserInfo

MAX_BROADCAST_LENGTH = 3500


def broadcast_text(message: Message) -> str:
    """Return what follows the command, as HTML that keeps the admin's formatting."""
    parts = message.html_text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


async def cmd_broadcast(message: Message, bot: Bot, user: UserInfo, admin: AdminConsole) -> None:
    """Ask to confirm a broadcast, saying how many will get it."""
    lang = user.language
    text = broadcast_text(message)
    if not text:
        await say(bot, message.chat.id, t(lang, "adm_usage_broadcast"))
        return
    if len(text) > MAX_BROADCAST_LENGTH:
        await say(bot, message.chat.id, t(lang, "adm_bc_too_long", max=MAX_BROADCAST_LENGTH))
        return
    if not await admin.broadcaster.audience_size(exclude=int(user.id)):
        await say(bot, message.chat.id, t(lang, "adm_bc_nobody"))
        return
    draft = await admin.broadcaster.draft_broadcast(int(user.id), text)
    # HTML on purpose: the preview looks exactly like what the recipients will get.
    await message.answer(
        t(lang, "adm_bc_confirm", count=draft.recipients, text=draft.text),
        reply_markup=keyboards.broadcast_confirm(lang, draft.id),
    )


async def on_broadcast(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    broadcasts: Broadcasts,
) -> None:
    """Send, cancel or stop a broadcast."""
    lang = user.language
    admin_id = int(user.id)
    draft_id = callback_data.id
    broadcaster = admin.broadcaster
    if callback_data.action == "stop":
        stopped = await broadcaster.request_stop(admin_id, draft_id)
        key = "adm_bc_stopping" if stopped else "adm_bc_stale"
        await query.answer(t(lang, key), show_alert=not stopped)
        return
    if callback_data.action == "cancel":
        if not await broadcaster.cancel_broadcast(admin_id, draft_id):
            await query.answer(t(lang, "adm_bc_stale"), show_alert=True)
            return
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(t(lang, "adm_bc_canceled"), parse_mode=None)
        return
    here = query.message if isinstance(query.message, Message) else None
    spot = None if here is None else ProgressSpot(here.chat.id, here.message_id, lang)
    draft = await broadcaster.confirm_broadcast(admin_id, draft_id, spot)
    if draft is None:
        await query.answer(t(lang, "adm_bc_stale"), show_alert=True)
        return
    await query.answer()
    text = progress_text(lang, draft.id, BroadcastProgress(total=draft.recipients))
    markup = keyboards.broadcast_stop(lang, draft.id)
    if here is not None:
        await here.edit_text(text, reply_markup=markup, parse_mode=None)
    else:  # the confirmation is too old to edit: report progress in a new message
        sent = await bot.send_message(
            query.from_user.id, text, reply_markup=markup, parse_mode=None
        )
        spot = ProgressSpot(query.from_user.id, sent.message_id, lang)
        await broadcaster.place_progress(draft.id, spot)
    broadcasts.watch(draft.id, spot)


def create_router() -> Router:
    """Build the /broadcast router with its buttons."""
    router = Router(name=__name__)
    router.message.register(cmd_broadcast, Command("broadcast"))
    router.callback_query.register(on_broadcast, BroadcastCb.filter())
    return router
