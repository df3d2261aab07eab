"""/refund: say what a refund will do, and make it only when the admin confirms, once.

`/refund <id> [amount]` (any of the payment's ids; the amount like 249, 249.5 or 249,50)
answers with the amount, the customer, the tickets voided and seats returned or the days taken
off a subscription, under ✅ Refund / ✖️ Cancel buttons. Confirm makes the refund and edits the
confirmation into its outcome; a second tap, or a confirmation the payment outgrew, says so.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import RefundCb
from bot.texts import day, moment, money, t
from handlers.admin import words
from handlers.admin.parsing import parse_admin_amount
from handlers.admin.replies import refusal_text, refused, say
from handlers.stars import stars_refund
from payments.admin.console import AdminConsole
from payments.admin.refund_drafts import RefundPlan
from payments.admin.refunds import RefundResult, RefundState
from payments.admin.results import Refusal
from payments.stars import StarsBilling
from payments.types import UserInfo
from settings import Settings


def plan_text(lang: str, plan: RefundPlan, tz: ZoneInfo) -> str:
    """Render what a refund will do, for the admin to confirm."""
    lines = [
        t(
            lang,
            "adm_rf_confirm",
            amount=money(plan.amount),
            total=money(plan.payment_amount),
            ids=words.ids(lang, plan.payment_id, plan.order_id, plan.provider_id),
            name=plan.user_name,
            user_id=plan.user_id,
        )
    ]
    if plan.refunded_before:
        lines.append(t(lang, "adm_rf_already", refunded=money(plan.refunded_before)))
    left = plan.payment_amount - plan.refunded_before - plan.amount
    if left > 0:
        lines.append(t(lang, "adm_rf_after", left=money(left)))
    if plan.retry:
        lines.append(t(lang, "adm_rf_retry"))
    if (tickets := plan.tickets) is not None:
        when = {"date": day(lang, tickets.visit_date), "time": tickets.slot_time}
        if not plan.full:
            lines.append(t(lang, "adm_rf_tickets_stay", total=tickets.total))
        else:
            lines.append(t(lang, "adm_rf_tickets_void", count=tickets.voided, total=tickets.total))
            if tickets.used:
                lines.append(t(lang, "adm_rf_tickets_used", count=tickets.used))
            if tickets.slot_started:
                lines.append(t(lang, "adm_rf_seats_past", **when))
            else:
                lines.append(t(lang, "adm_rf_seats", count=tickets.seats_returned, **when))
    if (sub := plan.subscription) is not None:
        if sub.ends:
            lines.append(t(lang, "adm_rf_sub_ends"))
        elif sub.days_removed:
            date_text = moment(lang, sub.expires_at, tz)
            lines.append(t(lang, "adm_rf_sub_shorter", days=sub.days_removed, date=date_text))
        else:
            lines.append(t(lang, "adm_rf_sub_same"))
    lines.append(t(lang, "adm_rf_customer_told"))
    return "\n".join(lines)


def refund_text(lang: str, result: RefundResult, tz: ZoneInfo) -> str:
    """Render the outcome of a confirmed refund."""
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
        ),
        words.ids(lang, result.payment_id, result.order_id, result.provider_id),
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


async def cmd_refund(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    settings: Settings,
    stars: StarsBilling | None = None,
) -> None:
    """Say what refunding a payment (all that is left, or the amount given) will do; ask.

    A payment in Telegram Stars is refunded whole at once through `refundStarPayment`.
    """
    lang = user.language
    args = (command.args or "").split()
    if stars is not None and len(args) == 1 and await stars.is_stars_payment(args[0]):
        await say(bot, message.chat.id, await stars_refund(bot, stars, args[0], lang))
        return
    amount = parse_admin_amount(args[1]) if len(args) == 2 else None
    if len(args) not in (1, 2) or (len(args) == 2 and amount is None):
        await say(bot, message.chat.id, t(lang, "adm_usage_refund"))
        return
    try:
        plan = await admin.refund_drafts.draft(int(user.id), args[0], amount)
    except Refusal as exc:
        await refused(bot, message.chat.id, user, settings, exc)
        return
    await say(
        bot,
        message.chat.id,
        plan_text(lang, plan, settings.tz),
        reply_markup=keyboards.refund_confirm(lang, plan.draft_id, money(plan.amount)),
    )


async def _show(query: CallbackQuery, bot: Bot, text: str) -> None:
    """Put a text in place of the confirmation (or below it, if it is too old to edit)."""
    if isinstance(query.message, Message):
        await query.message.edit_text(text, parse_mode=None)
    else:
        await say(bot, query.from_user.id, text)


async def on_refund(
    query: CallbackQuery,
    callback_data: RefundCb,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    settings: Settings,
) -> None:
    """Make or drop the refund a confirmation describes."""
    lang = user.language
    drafts = admin.refund_drafts
    if callback_data.action == "no":
        try:
            payment_id, amount = await drafts.cancel(int(user.id), callback_data.id)
        except Refusal:
            await query.answer(t(lang, "adm_rf_used"), show_alert=True)
            return
        await query.answer()
        await _show(
            query, bot, t(lang, "adm_rf_canceled", amount=money(amount), payment_id=payment_id)
        )
        return
    try:
        confirmed = await drafts.take(int(user.id), callback_data.id)
    except Refusal:  # a second tap, or a canceled confirmation
        await query.answer(t(lang, "adm_rf_used"), show_alert=True)
        return
    await query.answer()
    # The buttons go at once: YooKassa may take a while, and nothing is left to press.
    await _show(query, bot, t(lang, "adm_rf_working", amount=money(confirmed.amount)))
    try:
        result = await drafts.make(int(user.id), confirmed)
    except Refusal as exc:
        await _show(query, bot, refusal_text(lang, exc, settings.tz))
        return
    await _show(query, bot, refund_text(lang, result, settings.tz))


def create_router() -> Router:
    """Build the /refund router with its confirmation buttons."""
    router = Router(name=__name__)
    router.message.register(cmd_refund, Command("refund"))
    router.callback_query.register(on_refund, RefundCb.filter())
    return router
