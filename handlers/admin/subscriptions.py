"""/subscription <user id or @username>: a customer's subscription, its periods and renewals,
with a button that stops auto-renewal; also the renewal lines /payment and /stats show."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import SubscriptionCb
from bot.texts import moment, money, t
from handlers.admin import words
from handlers.admin.replies import clip, refused, say, short_moment
from payments.admin.console import AdminConsole
from payments.admin.renewals import RenewalFigures, RenewalView
from payments.admin.results import Refusal
from payments.admin.subscriptions import SubscriptionDetails
from payments.catalog import Catalog
from payments.types import UserInfo
from settings import Settings


def renewals_block(lang: str, figures: RenewalFigures) -> list[str]:
    """The auto-renewal lines of /stats."""
    rate = figures.success_rate
    return [
        "",
        t(lang, "adm_rn_stats_title"),
        t(lang, "adm_rn_stats_on", count=figures.auto_renewing),
        t(lang, "adm_rn_stats_due", count=figures.due_count, sum=money(figures.due_sum, lang)),
        t(
            lang,
            "adm_rn_stats_rate",
            rate="—" if rate is None else f"{rate}%",
            paid=figures.attempts_paid,
            settled=figures.attempts_settled,
        ),
        t(
            lang,
            "adm_rn_stats_churn",
            involuntary=figures.involuntary_churn,
            voluntary=figures.voluntary_churn,
        ),
    ]


def renewal_lines(lang: str, renewal: RenewalView, tz: ZoneInfo) -> list[str]:
    """One renewal and its attempts: number, when, result and reason."""
    lines = [
        t(
            lang,
            "adm_rn_renewal",
            renewal=renewal.key,
            start=moment(lang, renewal.period_start, tz),
            amount=money(renewal.amount, lang),
            status=words.renewal_status(lang, renewal.status),
            attempts=renewal.attempts,
        )
    ]
    if renewal.next_attempt_at is not None:
        lines.append(t(lang, "adm_rn_next", at=moment(lang, renewal.next_attempt_at, tz)))
    for attempt in renewal.tries:
        number = (
            t(lang, "adm_rn_attempt", number=attempt.number)
            if attempt.number is not None
            else t(lang, "adm_rn_by_link")
        )
        result = words.payment_status(lang, attempt.status, attempt.reason)
        lines.append(f"• {number} {short_moment(attempt.at, tz)} — {result} · {attempt.payment_id}")
    if not renewal.tries:
        lines.append(t(lang, "adm_rn_no_attempts"))
    return lines


def subscription_text(
    lang: str, details: SubscriptionDetails, catalog: Catalog, tz: ZoneInfo
) -> str:
    """Render /subscription: plan, status, period, auto-renewal, grace, periods, renewals."""
    plan = catalog.plan(details.plan_code)
    lines = [
        t(lang, "adm_sb_title", name=details.user_name, user_id=details.user_id),
        t(lang, "adm_sb_plan", plan=plan.title(lang) if plan else details.plan_code),
        t(lang, "adm_sb_status", status=words.subscription_status(lang, details.status)),
        t(
            lang,
            "adm_sb_period",
            start=moment(lang, details.starts_at, tz),
            end=moment(lang, details.expires_at, tz),
        ),
    ]
    if details.auto_renew:
        lines.append(t(lang, "adm_sb_auto_on", card=details.method_title or "—"))
    else:
        lines.append(t(lang, "adm_sb_auto_off"))
    if details.renewal_state:
        lines.append(
            t(lang, "adm_sb_state", state=words.renewal_state(lang, details.renewal_state))
        )
    if details.grace_until is not None:
        lines.append(t(lang, "adm_sb_grace", until=moment(lang, details.grace_until, tz)))
    lines += [
        "",
        t(lang, "adm_sb_periods", shown=len(details.periods), total=details.periods_total),
    ]
    for period in details.periods:
        source = (
            period.payment_id
            if period.payment_id
            else t(lang, "adm_sb_granted", admin=period.granted_by or "—")
        )
        lines.append(
            f"• {short_moment(period.starts_at, tz)} → {short_moment(period.ends_at, tz)} "
            f"({period.plan_code}, {period.days}) · {source}"
        )
    if details.renewals:
        lines += ["", t(lang, "adm_sb_renewals")]
        for renewal in details.renewals:
            lines += renewal_lines(lang, renewal, tz)
    return clip("\n".join(lines))


def stop_button(lang: str, details: SubscriptionDetails) -> InlineKeyboardMarkup | None:
    """The stop button while auto-renewal is on."""
    if not details.auto_renew:
        return None
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t(lang, "adm_sb_btn_stop"),
        callback_data=SubscriptionCb(action="stop", user_id=details.user_id),
    )
    return builder.as_markup()


async def cmd_subscription(
    message: Message,
    command: CommandObject,
    bot: Bot,
    user: UserInfo,
    admin: AdminConsole,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Show a customer's subscription by user id or @username."""
    args = (command.args or "").split()
    lang = user.language
    if len(args) != 1:
        await say(bot, message.chat.id, t(lang, "adm_usage_subscription"))
        return
    try:
        details = await admin.subscriptions.view(int(user.id), args[0])
    except Refusal as exc:
        await refused(bot, message.chat.id, user, settings, exc)
        return
    await say(
        bot,
        message.chat.id,
        subscription_text(lang, details, catalog, settings.tz),
        reply_markup=stop_button(lang, details),
    )


async def on_stop(
    query: CallbackQuery,
    callback_data: SubscriptionCb,
    user: UserInfo,
    admin: AdminConsole,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Stop auto-renewal; a stale button says it was already off. The view is redrawn."""
    lang = user.language
    stopped = await admin.subscriptions.stop_auto_renew(int(user.id), callback_data.user_id)
    await query.answer(
        t(lang, "adm_sb_stopped" if stopped else "adm_sb_already_off"), show_alert=not stopped
    )
    details = await admin.subscriptions.current(callback_data.user_id)
    if details is None or not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(
            subscription_text(lang, details, catalog, settings.tz),
            reply_markup=stop_button(lang, details),
            parse_mode=None,
        )
    except TelegramBadRequest:  # the same text: "message is not modified"
        return


def create_router() -> Router:
    """Build the /subscription router with its stop button."""
    router = Router(name=__name__)
    router.message.register(cmd_subscription, Command("subscription"))
    router.callback_query.register(on_stop, SubscriptionCb.filter())
    return router
