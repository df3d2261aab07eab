"""/refund: all that is left of a payment, or the amount given."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.texts import moment, money, t
from handlers.admin.parsing import parse_refund_amount
from handlers.admin.replies import refused, say
from payments.admin.console import AdminConsole
from payments.admin.refunds import RefundResult, RefundState
from payments.admin.results import Refusal
from payments.types import UserInfo
from settings import Settings


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
        await say(bot, message.chat.id, t(user.language, "adm_usage_refund"))
        return
    try:
        result = await admin.refunds.refund(int(user.id), args[0], amount)
    except Refusal as exc:
        await refused(bot, message.chat.id, user, settings, exc)
        return
    await say(bot, message.chat.id, refund_text(user.language, result, settings.tz))


def create_router() -> Router:
    """Build the /refund router."""
    router = Router(name=__name__)
    router.message.register(cmd_refund, Command("refund"))
    return router
