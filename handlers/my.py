"""/my: what the customer owns."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.callbacks import MenuCb, TicketQrCb
from bot.notifier import TelegramNotifier
from bot.texts import day, t
from payments.account import Account
from payments.catalog import Catalog
from payments.ports import IssuedTicket
from payments.receipts import ticket_title
from payments.types import SubscriptionStatus, UserInfo
from settings import Settings


async def _my_view(
    user: UserInfo, account: Account, catalog: Catalog, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    lang = user.language
    summary = await account.summary(user.id)
    parts = []
    buttons: list[tuple[str, int]] = []
    sub = summary.subscription
    if sub is not None:
        plan = catalog.plan(sub.plan_code)
        title = plan.title(lang) if plan else sub.plan_code
        date = day(lang, sub.expires_at.astimezone(settings.tz).date())
        key = (
            "my_subscription_active"
            if sub.status is SubscriptionStatus.ACTIVE
            else "my_subscription_expired"
        )
        parts.append(t(lang, key, plan=title, date=date))
    if summary.tickets:
        lines = [t(lang, "my_tickets_title")]
        for number, ticket in enumerate(summary.tickets, start=1):
            title = ticket_title(catalog, ticket.ticket_type, lang)
            when = {"date": f"{ticket.visit_date:%d.%m}", "time": ticket.slot_time}
            status = t(lang, f"ticket_status_{ticket.status}")
            lines.append(
                f"{number}. " + t(lang, "my_ticket_line", title=title, status=status, **when)
            )
            if ticket.status == "valid":
                buttons.append((t(lang, "btn_show_qr", n=number, title=title, **when), ticket.id))
        parts.append("\n".join(lines))
    markup = keyboards.my_purchases(lang, buttons)
    if not parts:
        return t(lang, "my_empty"), markup
    return "\n\n".join(parts), markup


async def cmd_my(
    message: Message, user: UserInfo, account: Account, catalog: Catalog, settings: Settings
) -> None:
    """Show the subscription and tickets."""
    text, markup = await _my_view(user, account, catalog, settings)
    await message.answer(text, reply_markup=markup)


async def on_menu_my(
    query: CallbackQuery, user: UserInfo, account: Account, catalog: Catalog, settings: Settings
) -> None:
    """Show the purchases in place of the menu."""
    await query.answer()
    text, markup = await _my_view(user, account, catalog, settings)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def on_show_qr(
    query: CallbackQuery,
    callback_data: TicketQrCb,
    user: UserInfo,
    account: Account,
    notifier: TelegramNotifier,
) -> None:
    """Send a ticket's QR again."""
    ticket = await account.ticket(user.id, callback_data.ticket_id)
    if ticket is None:
        await query.answer(t(user.language, "ticket_not_found"), show_alert=True)
        return
    await query.answer()
    await notifier.send_ticket(
        user.id,
        user.language,
        IssuedTicket(ticket.code, ticket.ticket_type, ticket.visit_date, ticket.slot_time),
    )


def create_router() -> Router:
    """Build the purchases router."""
    router = Router(name=__name__)
    router.message.register(cmd_my, Command("my"))
    router.callback_query.register(on_menu_my, MenuCb.filter(F.action == "my"))
    router.callback_query.register(on_show_qr, TicketQrCb.filter())
    return router
