"""/my: what the customer owns."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from aiogram import Bot, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards, keyboards_renewal
from bot.callbacks import MenuCb, MyCancelCb, TicketQrCb
from bot.notifier import TelegramNotifier
from bot.routing import KeyedRouter
from bot.texts import day, money, t
from payments.account import Account, UnpaidView
from payments.catalog import Catalog
from payments.checkout.flow import Checkout
from payments.receipts import ticket_title
from payments.stars import StarsBilling
from payments.subscriptions.consent import AutoRenewal
from payments.types import SubscriptionStatus, UserInfo
from settings import Settings

log = logging.getLogger(__name__)


def _unpaid_part(
    lang: str, unpaid: tuple[UnpaidView, ...], catalog: Catalog, now: datetime
) -> tuple[str, list[keyboards.UnpaidButtons]]:
    """List the orders waiting for payment, each with its time left, and their buttons."""
    lines = [t(lang, "my_unpaid_title")]
    buttons = []
    for number, order in enumerate(unpaid, start=1):
        minutes = max(1, math.ceil((order.expires_at - now).total_seconds() / 60))
        price = money(order.amount)
        if order.visit_date is not None and order.order_id is not None:
            line = t(
                lang,
                "my_unpaid_tickets",
                n=number,
                order_id=order.order_id,
                date=day(lang, order.visit_date),
                time=order.slot_time,
                price=price,
                minutes=minutes,
            )
        else:
            plan = catalog.plan(order.plan_code or "")
            title = plan.title(lang).capitalize() if plan else (order.plan_code or "")
            line = t(lang, "my_unpaid_plan", n=number, plan=title, price=price, minutes=minutes)
        lines.append(line)
        buttons.append(
            keyboards.UnpaidButtons(
                pay_text=t(lang, "btn_my_pay", n=number, price=price),
                url=order.confirmation_url,
                cancel_text=t(lang, "btn_my_cancel", n=number),
                payment_id=order.payment_id,
            )
        )
    return "\n".join(lines), buttons


async def my_view(
    user: UserInfo,
    account: Account,
    catalog: Catalog,
    settings: Settings,
    auto_renewal: AutoRenewal | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """Draw /my: unpaid orders, the subscription and its auto-renewal, coming tickets, and
    their buttons (only the auto-renewal switches still possible)."""
    lang = user.language
    summary = await account.summary(user.id)
    parts = []
    renewal_line: str | None = None
    switches: dict[str, bool] | None = None
    buttons: list[tuple[str, int]] = []
    unpaid: list[keyboards.UnpaidButtons] = []
    if summary.unpaid:
        text, unpaid = _unpaid_part(lang, summary.unpaid, catalog, account.now())
        parts.append(text)
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
        state = await auto_renewal.state(user.id) if auto_renewal is not None else None
        if state is not None and (state.auto_renew or state.method_title):
            active = sub.status is SubscriptionStatus.ACTIVE
            if state.auto_renew:
                charge = sub.expires_at - timedelta(hours=settings.RENEWAL_LEAD_HOURS)
                renewal_line = t(
                    lang,
                    "my_autorenew_on",
                    card=state.method_title or "",
                    date=day(lang, charge.astimezone(settings.tz).date()),
                )
            else:
                renewal_line = t(lang, "my_autorenew_off_card", card=state.method_title or "")
            switches = {
                "on": state.auto_renew,
                "card": state.method_title is not None,
                "can_turn_on": active,
            }
        if renewal_line:
            parts[-1] = f"{parts[-1]}\n{renewal_line}"
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
    markup = keyboards.my_purchases(lang, buttons, unpaid)
    if switches is not None:
        markup = keyboards_renewal.with_auto_renew(lang, markup, **switches)
    if not parts:
        return t(lang, "my_empty"), markup
    return "\n\n".join(parts), markup


async def _with_stars(
    user: UserInfo, markup: InlineKeyboardMarkup, stars: StarsBilling | None
) -> InlineKeyboardMarkup:
    """Offer to turn off a renewing Stars subscription."""
    if stars is not None and await stars.renewing(user.id) is not None:
        return keyboards.with_stars_cancel(user.language, markup)
    return markup


async def cmd_my(
    message: Message,
    user: UserInfo,
    account: Account,
    catalog: Catalog,
    settings: Settings,
    stars: StarsBilling | None = None,
    auto_renewal: AutoRenewal | None = None,
) -> None:
    """Show the subscription and tickets."""
    text, markup = await my_view(user, account, catalog, settings, auto_renewal)
    await message.answer(text, reply_markup=await _with_stars(user, markup, stars))


async def on_menu_my(
    query: CallbackQuery,
    user: UserInfo,
    account: Account,
    catalog: Catalog,
    settings: Settings,
    stars: StarsBilling | None = None,
    auto_renewal: AutoRenewal | None = None,
) -> None:
    """Show the purchases in place of the menu."""
    text, markup = await my_view(user, account, catalog, settings, auto_renewal)
    markup = await _with_stars(user, markup, stars)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


async def on_show_qr(
    query: CallbackQuery,
    callback_data: TicketQrCb,
    user: UserInfo,
    account: Account,
    notifier: TelegramNotifier,
) -> None:
    """Send a ticket's QR again."""
    ticket = await account.issued_ticket(user.id, callback_data.ticket_id)
    if ticket is None:
        await query.answer(t(user.language, "ticket_not_found"), show_alert=True)
        return
    await notifier.send_ticket(user.id, user.language, ticket)
    await query.answer()


async def on_my_cancel(
    query: CallbackQuery,
    callback_data: MyCancelCb,
    user: UserInfo,
    bot: Bot,
    account: Account,
    catalog: Catalog,
    checkout: Checkout,
    settings: Settings,
    auto_renewal: AutoRenewal | None = None,
) -> None:
    """Cancel an unpaid order from /my, retire its pay message, and show /my again."""
    lang = user.language
    pay_message = await account.pay_message(user.id, callback_data.payment_id)
    if not await checkout.cancel_by_user(callback_data.payment_id, user.id):
        await query.answer(t(lang, "payment_already_final"), show_alert=True)
    else:
        await query.answer(t(lang, "my_unpaid_canceled"))
        if pay_message is not None:
            try:
                await bot.edit_message_text(
                    text=t(lang, "pay_message_canceled"),
                    chat_id=int(user.id),
                    message_id=pay_message,
                    reply_markup=None,
                )
            except TelegramBadRequest as exc:
                log.info("pay message of %s not retired: %s", user.id, exc)
    text, markup = await my_view(user, account, catalog, settings, auto_renewal)
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            log.debug("/my of %s not redrawn: %s", user.id, exc)


def create_router() -> KeyedRouter:
    """Build the purchases router."""
    router = KeyedRouter(name=__name__)
    router.message.register(cmd_my, Command("my"))
    router.callback_query.register(on_menu_my, MenuCb.filter(F.action == "my"))
    router.callback_query.register(on_show_qr, TicketQrCb.filter())
    router.callback_query.register(on_my_cancel, MyCancelCb.filter())
    return router
