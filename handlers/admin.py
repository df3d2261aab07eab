"""The admin console in the chat: figures, look-ups, refunds, prices, capacity, check-in,
broadcasts and export. Only ADMIN_IDS reach it; everyone else is told it is not available.

Handlers parse arguments (bad ones get the usage line), call one use-case of AdminConsole and
turn its dataclass or Refusal into a reply. Replies carry admin data and typed arguments, so
they go out as plain text (no parse mode): nothing an admin or a customer typed can break the
markup. Broadcasts are the exception: they keep the admin's formatting, as HTML.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message, TelegramObject

from bot import keyboards
from bot.broadcast import Broadcasts, progress_text
from bot.callbacks import AdminCb, BroadcastCb
from bot.texts import day, lang_of, moment, money, t
from payments.admin import (
    AdminConsole,
    BroadcastProgress,
    PaymentDetails,
    PriceList,
    RefundResult,
    RefundState,
    Refusal,
    Stats,
)
from payments.catalog import Catalog
from payments.charts import ChartLabels, revenue_chart
from payments.money import MoneyError, parse_money
from payments.receipts import ticket_title
from payments.types import UserInfo
from settings import Settings

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
)
DEFAULT_EXPORT_DAYS = 30
MAX_BROADCAST_LENGTH = 3500
MESSAGE_LIMIT = 4000
CAPTION_LIMIT = 1024
REFUND_AMOUNT = re.compile(r"^[0-9]{1,9}(?:[.,][0-9]{1,2})?$")
ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
DOTTED_DATE = re.compile(r"^([0-9]{2})\.([0-9]{2})\.([0-9]{4})$")
CLOCK_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
WHOLE_NUMBER = re.compile(r"^[0-9]{1,6}$")


# ---- parsing (pure) -------------------------------------------------------------------------


def parse_day(text: str) -> date | None:
    """Parse `YYYY-MM-DD` or `DD.MM.YYYY`; None if it is neither or not a real date."""
    if match := ISO_DATE.match(text):
        year, month, day_ = match.groups()
    elif match := DOTTED_DATE.match(text):
        day_, month, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day_))
    except ValueError:
        return None


def parse_clock(text: str) -> str | None:
    """Parse a time of day like `10:00` or `9:30` into `HH:MM`."""
    match = CLOCK_TIME.match(text)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


def parse_count(text: str) -> int | None:
    """Parse a non-negative whole number."""
    return int(text) if WHOLE_NUMBER.match(text) else None


def parse_refund_amount(text: str) -> Decimal | None:
    """Parse `500`, `500.5`, `500.50` or `500,50` into an amount; None for anything else."""
    if not REFUND_AMOUNT.match(text):
        return None
    return parse_money(text.replace(",", "."))


def broadcast_text(message: Message) -> str:
    """Return what follows the command, as HTML that keeps the admin's formatting."""
    parts = message.html_text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


# ---- rendering (pure) -----------------------------------------------------------------------


def _value(lang: str, value: object, tz: ZoneInfo) -> str:
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, datetime):
        return moment(lang, value, tz)
    if isinstance(value, date):
        return day(lang, value)
    return "—" if value is None else str(value)


def refusal_text(lang: str, refusal: Refusal, tz: ZoneInfo) -> str:
    """Say why an action was refused, with its values formatted for people."""
    values = {name: _value(lang, value, tz) for name, value in refusal.values.items()}
    return t(lang, f"adm_no_{refusal.reason}", **values)


def stats_text(lang: str, stats: Stats, tz: ZoneInfo) -> str:
    """Render the figures of /stats."""
    lines = [t(lang, "adm_stats_title", at=moment(lang, stats.as_of, tz))]
    for key, figures in (
        ("adm_period_today", stats.today),
        ("adm_period_week", stats.week),
        ("adm_period_month", stats.month),
    ):
        lines.append(
            t(
                lang,
                "adm_stats_line",
                period=t(lang, key),
                revenue=money(figures.revenue),
                refunds=money(figures.refunds),
                orders=figures.paid_orders,
                tickets=figures.tickets_sold,
                subscribers=figures.new_subscribers,
            )
        )
    lines.append(t(lang, "adm_stats_active", count=stats.active_subscriptions))
    return "\n".join(lines)


def _short(value: datetime, tz: ZoneInfo) -> str:
    return f"{value.astimezone(tz):%d.%m %H:%M}"


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def payment_text(lang: str, details: PaymentDetails, catalog: Catalog, tz: ZoneInfo) -> str:
    """Render /payment: the payment, its tickets or period, refunds, events and admin actions."""
    p = details.payment
    lines = [t(lang, "adm_pay_title", id=p.id)]
    if p.is_test:
        lines.append(t(lang, "adm_pay_test"))
    lines.append(t(lang, "adm_pay_provider", id=p.provider_id or "—"))
    if p.kind == "tickets":
        lines.append(t(lang, "adm_pay_tickets_order", order_id=p.order_id or "—"))
    else:
        plan = catalog.plan(p.plan_code or "")
        title = plan.title(lang) if plan else (p.plan_code or "—")
        lines.append(t(lang, "adm_pay_plan", plan=title, cohort=p.cohort or "—"))
    lines.append(t(lang, "adm_pay_customer", name=p.user_name, user_id=p.user_id))
    if p.customer_email:
        lines.append(t(lang, "adm_pay_email", email=p.customer_email))
    lines.append(
        t(lang, "adm_pay_amount", amount=money(p.amount), refunded=money(p.refunded_amount))
    )
    status = f"{p.status} ({p.cancel_reason})" if p.cancel_reason else p.status
    lines.append(t(lang, "adm_pay_status", status=status))
    lines.append(t(lang, "adm_pay_created", at=moment(lang, p.created_at, tz)))
    if p.captured_at:
        lines.append(t(lang, "adm_pay_captured", at=moment(lang, p.captured_at, tz)))
    lines.append(t(lang, "adm_pay_description", text=p.description))
    if details.tickets:
        lines += ["", t(lang, "adm_pay_tickets", count=len(details.tickets))]
        for ticket in details.tickets:
            line = (
                f"• {ticket_title(catalog, ticket.ticket_type, lang)} "
                f"{ticket.visit_date:%d.%m.%Y} {ticket.slot_time} — "
                f"{t(lang, f'ticket_status_{ticket.status}')} · {ticket.code}"
            )
            if ticket.checked_in_at:
                line += " · " + t(lang, "adm_pay_checked_in", at=_short(ticket.checked_in_at, tz))
            lines.append(line)
    if details.period is not None:
        period = details.period
        expires = period.subscription_expires_at
        lines += [
            "",
            t(
                lang,
                "adm_pay_period",
                days=period.days,
                start=moment(lang, period.starts_at, tz),
                end=moment(lang, period.ends_at, tz),
                status=period.subscription_status or "—",
                expires=moment(lang, expires, tz) if expires else "—",
            ),
        ]
    if details.refunds:
        lines += ["", t(lang, "adm_pay_refunds")]
        lines += [
            f"• #{r.id} {money(r.amount)} — {r.status} ({_short(r.created_at, tz)}"
            + (f", admin {r.requested_by}" if r.requested_by else "")
            + ")"
            for r in details.refunds
        ]
    lines += ["", t(lang, "adm_pay_events", shown=len(details.events), total=details.events_total)]
    for event in details.events:
        change = ""
        if event.status_after and event.status_after != event.status_before:
            change = f" {event.status_before or '∅'} → {event.status_after}"
        lines.append(f"• {_short(event.at, tz)} {event.source}: {event.event}{change}")
    if details.audit:
        lines += ["", t(lang, "adm_pay_audit")]
        lines += [
            f"• {_short(a.at, tz)} {a.admin_id} {a.action}: {a.result}" for a in details.audit
        ]
    return _clip("\n".join(lines))


def refund_text(lang: str, result: RefundResult, tz: ZoneInfo) -> str:
    """Render the outcome of /refund."""
    lines = [
        t(
            lang,
            "adm_refund_done",
            refund_id=result.refund_id,
            amount=money(result.amount),
            payment_id=result.payment_id,
            state=t(lang, f"adm_refund_state_{result.state.value}"),
            refunded=money(result.refunded_total),
            total=money(result.payment_amount),
        )
    ]
    if result.state is RefundState.SUCCEEDED:
        if result.tickets_total:
            lines.append(
                t(
                    lang,
                    "adm_refund_tickets",
                    refunded=result.tickets_refunded,
                    total=result.tickets_total,
                )
            )
        if result.subscription_expires_at is not None and result.subscription_active:
            date_text = moment(lang, result.subscription_expires_at, tz)
            lines.append(t(lang, "adm_refund_subscription", date=date_text))
        elif result.subscription_expires_at is not None:
            lines.append(t(lang, "adm_refund_subscription_ended"))
    if result.retried:
        lines.append(t(lang, "adm_refund_retried"))
    return "\n".join(lines)


def prices_text(lang: str, prices: PriceList, catalog: Catalog) -> str:
    """Render /prices: each plan's base price and its price per cohort, with the source."""
    lines = [t(lang, "adm_prices_title")]
    for plan in prices.plans:
        entry = catalog.plan(plan.code)
        title = entry.title(lang).capitalize() if entry else plan.code
        lines.append("")
        lines.append(
            t(
                lang,
                "adm_prices_plan",
                title=title,
                code=plan.code,
                days=plan.days,
                base=money(plan.base),
            )
        )
        lines += [
            f"  • {c.cohort}: {money(c.amount)} ({t(lang, f'adm_price_src_{c.source}')})"
            for c in plan.cohorts
        ]
    lines += ["", t(lang, "adm_prices_test", price=money(prices.test_price))]
    lines.append(t(lang, "adm_usage_setprice"))
    return "\n".join(lines)


# ---- sending --------------------------------------------------------------------------------


async def _say(bot: Bot, chat_id: int, text: str, **kwargs: Any) -> None:
    """Send plain text: admin data never goes through a parse mode."""
    await bot.send_message(chat_id, text, parse_mode=None, **kwargs)


async def _refused(
    bot: Bot, chat_id: int, user: UserInfo, settings: Settings, exc: Refusal
) -> None:
    await _say(bot, chat_id, refusal_text(user.language, exc, settings.tz))


async def _send_stats(
    bot: Bot, chat_id: int, user: UserInfo, admin: AdminConsole, settings: Settings
) -> None:
    lang = user.language
    stats = await admin.stats(int(user.id))
    caption = stats_text(lang, stats, settings.tz)
    labels = ChartLabels(
        title=t(lang, "adm_chart_title"),
        tickets=t(lang, "adm_chart_tickets"),
        subscriptions=t(lang, "adm_chart_subscriptions"),
    )
    series = [(d.day, d.tickets, d.subscriptions) for d in stats.series]
    try:
        png = await asyncio.to_thread(revenue_chart, series, labels)
    except Exception:  # the figures still matter when the picture fails
        log.exception("stats: the chart could not be drawn")
        await _say(bot, chat_id, caption)
        return
    photo = BufferedInputFile(png, f"revenue-{stats.as_of.astimezone(settings.tz):%Y%m%d}.png")
    if len(caption) <= CAPTION_LIMIT:
        await bot.send_photo(chat_id, photo, caption=caption, parse_mode=None)
    else:
        await bot.send_photo(chat_id, photo)
        await _say(bot, chat_id, caption)


async def _send_export(
    bot: Bot, chat_id: int, user: UserInfo, admin: AdminConsole, settings: Settings, days: int
) -> None:
    lang = user.language
    try:
        files = await admin.export(int(user.id), days)
    except Refusal as exc:
        await _refused(bot, chat_id, user, settings, exc)
        return
    stamp = f"{files.as_of.astimezone(settings.tz):%Y%m%d}"
    await bot.send_document(
        chat_id,
        BufferedInputFile(files.payments_csv, f"payments-{stamp}-{days}d.csv"),
        caption=t(lang, "adm_export_payments", days=days, count=files.payments),
        parse_mode=None,
    )
    await bot.send_document(
        chat_id,
        BufferedInputFile(files.audit_csv, f"admin-log-{stamp}-{days}d.csv"),
        caption=t(lang, "adm_export_audit", days=days, count=files.audit_rows),
        parse_mode=None,
    )


# ---- commands -------------------------------------------------------------------------------


async def cmd_admin(message: Message, user: UserInfo) -> None:
    """Show the admin menu."""
    await message.answer(
        t(user.language, "adm_menu"),
        reply_markup=keyboards.admin_menu(user.language),
        parse_mode=None,
    )


async def cmd_stats(
    message: Message, bot: Bot, user: UserInfo, admin: AdminConsole, settings: Settings
) -> None:
    """Send today's, 7-day and 30-day figures with the revenue chart."""
    await _send_stats(bot, message.chat.id, user, admin, settings)


async def cmd_payment(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Show a payment by our id, YooKassa's id or its order number."""
    args = (command.args or "").split()
    if len(args) != 1:
        await _say(bot, message.chat.id, t(user.language, "adm_usage_payment"))
        return
    try:
        details = await admin.payment(int(user.id), args[0])
    except Refusal as exc:
        await _refused(bot, message.chat.id, user, settings, exc)
        return
    await _say(bot, message.chat.id, payment_text(user.language, details, catalog, settings.tz))


async def cmd_refund(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    settings: Settings,
) -> None:
    """Refund all that is left of a payment, or the amount given."""
    args = (command.args or "").split()
    amount = parse_refund_amount(args[1]) if len(args) == 2 else None
    if len(args) not in (1, 2) or (len(args) == 2 and amount is None):
        await _say(bot, message.chat.id, t(user.language, "adm_usage_refund"))
        return
    try:
        result = await admin.refund(int(user.id), args[0], amount)
    except Refusal as exc:
        await _refused(bot, message.chat.id, user, settings, exc)
        return
    await _say(bot, message.chat.id, refund_text(user.language, result, settings.tz))


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
        await _say(bot, message.chat.id, t(user.language, "adm_usage_grant"))
        return
    try:
        result = await admin.grant(int(user.id), args[0], days)
    except Refusal as exc:
        await _refused(bot, message.chat.id, user, settings, exc)
        return
    date_text = moment(user.language, result.expires_at, settings.tz)
    await _say(
        bot,
        message.chat.id,
        t(user.language, "adm_grant_done", user_id=result.user_id, days=days, date=date_text),
    )


async def cmd_prices(
    message: Message, bot: Bot, user: UserInfo, admin: AdminConsole, catalog: Catalog
) -> None:
    """Show every plan's price per cohort."""
    prices = await admin.prices(int(user.id))
    await _say(bot, message.chat.id, prices_text(user.language, prices, catalog))


async def cmd_setprice(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    settings: Settings,
) -> None:
    """Set a plan's price for a cohort, from the next checkout on."""
    args = (command.args or "").split()
    amount: Decimal | None = None
    if len(args) == 3:
        try:
            amount = parse_money(args[2], strict=True)
        except MoneyError:
            amount = None
    if amount is None:
        await _say(bot, message.chat.id, t(user.language, "adm_usage_setprice"))
        return
    try:
        change = await admin.set_price(int(user.id), args[0].lower(), args[1].lower(), amount)
    except Refusal as exc:
        await _refused(bot, message.chat.id, user, settings, exc)
        return
    await _say(
        bot,
        message.chat.id,
        t(
            user.language,
            "adm_setprice_done",
            plan=change.plan_code,
            cohort=change.cohort,
            old=money(change.old),
            new=money(change.new),
        ),
    )


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
        await _say(bot, message.chat.id, t(user.language, "adm_usage_capacity"))
        return
    try:
        result = await admin.set_capacity(int(user.id), visit_date, slot_time, seats)
    except Refusal as exc:
        await _refused(bot, message.chat.id, user, settings, exc)
        return
    await _say(
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


async def cmd_checkin(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Let a ticket in by the code its QR carries."""
    args = (command.args or "").split()
    if len(args) != 1 or len(args[0]) > 64:
        await _say(bot, message.chat.id, t(user.language, "adm_usage_checkin"))
        return
    lang = user.language
    try:
        done = await admin.check_in(int(user.id), args[0])
    except Refusal as exc:
        await _refused(bot, message.chat.id, user, settings, exc)
        return
    await _say(
        bot,
        message.chat.id,
        t(
            lang,
            "adm_checkin_done",
            title=ticket_title(catalog, done.ticket_type, lang),
            date=day(lang, done.visit_date),
            time=done.slot_time,
            order_id=done.order_id,
            name=done.user_name,
            user_id=done.user_id,
            at=moment(lang, done.checked_in_at, settings.tz),
        ),
    )


async def cmd_broadcast(message: Message, bot: Bot, user: UserInfo, admin: AdminConsole) -> None:
    """Ask to confirm a broadcast, saying how many will get it."""
    lang = user.language
    text = broadcast_text(message)
    if not text:
        await _say(bot, message.chat.id, t(lang, "adm_usage_broadcast"))
        return
    if len(text) > MAX_BROADCAST_LENGTH:
        await _say(bot, message.chat.id, t(lang, "adm_bc_too_long", max=MAX_BROADCAST_LENGTH))
        return
    if not await admin.audience(exclude=int(user.id)):
        await _say(bot, message.chat.id, t(lang, "adm_bc_nobody"))
        return
    draft = await admin.draft_broadcast(int(user.id), text)
    # HTML on purpose: the preview looks exactly like what the recipients will get.
    await message.answer(
        t(lang, "adm_bc_confirm", count=draft.recipients, text=draft.text),
        reply_markup=keyboards.broadcast_confirm(lang, draft.id),
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
        await _say(bot, message.chat.id, t(user.language, "adm_usage_export"))
        return
    await _send_export(bot, message.chat.id, user, admin, settings, days)


# ---- buttons --------------------------------------------------------------------------------


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
        await _send_stats(bot, chat_id, user, admin, settings)
    elif callback_data.action == "prices":
        prices = await admin.prices(int(user.id))
        await _say(bot, chat_id, prices_text(lang, prices, catalog))
    elif callback_data.action == "export":
        await _send_export(bot, chat_id, user, admin, settings, DEFAULT_EXPORT_DAYS)
    elif isinstance(query.message, Message):
        try:
            await query.message.edit_text(
                t(lang, "adm_help"), reply_markup=keyboards.admin_menu(lang), parse_mode=None
            )
        except TelegramBadRequest as exc:  # pressed twice: "message is not modified"
            log.debug("admin help not edited: %s", exc)
    else:
        await _say(bot, chat_id, t(lang, "adm_help"))


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
    if callback_data.action == "stop":
        here = broadcasts.stop(draft_id)
        anywhere = await admin.request_stop(admin_id, draft_id)
        key = "adm_bc_stopping" if here or anywhere else "adm_bc_stale"
        await query.answer(t(lang, key), show_alert=not (here or anywhere))
        return
    if callback_data.action == "cancel":
        if not await admin.cancel_broadcast(admin_id, draft_id):
            await query.answer(t(lang, "adm_bc_stale"), show_alert=True)
            return
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(t(lang, "adm_bc_canceled"), parse_mode=None)
        return
    draft = await admin.confirm_broadcast(admin_id, draft_id)
    if draft is None:
        await query.answer(t(lang, "adm_bc_stale"), show_alert=True)
        return
    await query.answer()
    text = progress_text(lang, draft.id, BroadcastProgress(total=draft.recipients))
    markup = keyboards.broadcast_stop(lang, draft.id)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup, parse_mode=None)
        message_id = query.message.message_id
    else:  # the confirmation is too old to edit: report progress in a new message
        sent = await bot.send_message(
            query.from_user.id, text, reply_markup=markup, parse_mode=None
        )
        message_id = sent.message_id
    broadcasts.start(draft.id, chat_id=query.from_user.id, message_id=message_id, lang=lang)


# ---- everyone else --------------------------------------------------------------------------


def _is_admin(_: TelegramObject, user: UserInfo | None = None) -> bool:
    return user is not None and user.is_admin


def _is_not_admin(event: TelegramObject, user: UserInfo | None = None) -> bool:
    return not _is_admin(event, user)


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


def create_router() -> Router:
    """Build the admin router: the console for ADMIN_IDS, a polite refusal for everyone else.

    Include it before the routers with catch-all state handlers (an admin halfway through a
    ticket journey can still use the console) and before the errors router.
    """
    console = Router(name=f"{__name__}.console")
    console.message.filter(_is_admin)
    console.callback_query.filter(_is_admin)
    console.message.register(cmd_admin, Command("admin"))
    console.message.register(cmd_stats, Command("stats"))
    console.message.register(cmd_payment, Command("payment"))
    console.message.register(cmd_refund, Command("refund"))
    console.message.register(cmd_grant, Command("grant"))
    console.message.register(cmd_prices, Command("prices"))
    console.message.register(cmd_setprice, Command("setprice"))
    console.message.register(cmd_capacity, Command("capacity"))
    console.message.register(cmd_checkin, Command("checkin"))
    console.message.register(cmd_broadcast, Command("broadcast"))
    console.message.register(cmd_export, Command("export"))
    console.callback_query.register(on_menu, AdminCb.filter())
    console.callback_query.register(on_broadcast, BroadcastCb.filter())

    refusals = Router(name=f"{__name__}.refusals")
    refusals.message.filter(_is_not_admin)
    refusals.callback_query.filter(_is_not_admin)
    refusals.message.register(on_refused, Command(*ADMIN_COMMANDS))
    refusals.callback_query.register(on_refused_button, AdminCb.filter())
    refusals.callback_query.register(on_refused_button, BroadcastCb.filter())

    # Nearly every update is not for the console: one cheap look at the command or the button
    # sends it past both routers and their dozen command filters at once.
    router = Router(name=__name__)
    router.message.filter(_admin_command)
    router.callback_query.filter(_admin_button)
    router.include_routers(console, refusals)
    return router


ADMIN_BUTTON_PREFIXES = frozenset({AdminCb.__prefix__, BroadcastCb.__prefix__})


def _admin_command(message: Message) -> bool:
    """Whether a message is one of the admin commands (as aiogram's Command would parse it)."""
    text = message.text or message.caption or ""
    if not text.startswith("/"):
        return False
    first = text.split(maxsplit=1)[0]
    return first[1:].split("@", 1)[0] in ADMIN_COMMANDS


def _admin_button(query: CallbackQuery) -> bool:
    """Whether a button press carries admin callback data."""
    return (query.data or "").split(AdminCb.__separator__, 1)[0] in ADMIN_BUTTON_PREFIXES
