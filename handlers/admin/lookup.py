"""/payment: a payment by our id, YooKassa's id or its order number, with all about it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.texts import moment, money, t
from handlers.admin import words
from handlers.admin.replies import clip, refused, say, short_moment
from handlers.admin.subscriptions import renewal_lines
from payments.admin.console import AdminConsole
from payments.admin.lookup import PaymentDetails
from payments.admin.results import Refusal
from payments.catalog import Catalog
from payments.receipts import ticket_title
from payments.types import UserInfo
from settings import Settings


def payment_text(lang: str, details: PaymentDetails, catalog: Catalog, tz: ZoneInfo) -> str:
    """Render /payment: the payment, its tickets or period, refunds, events and admin actions."""
    p = details.payment
    lines = [t(lang, "adm_pay_title", id=p.id)]
    if p.is_test:
        lines.append(t(lang, "adm_pay_test"))
    lines.append(words.ids(lang, p.id, p.order_id, p.provider_id))
    if p.kind == "tickets":
        lines.append(t(lang, "adm_pay_tickets_order", order_id=p.order_id or "—"))
    else:
        plan = catalog.plan(p.plan_code or "")
        title = plan.title(lang) if plan else (p.plan_code or "—")
        lines.append(t(lang, "adm_pay_plan", plan=title, cohort=words.cohort(lang, p.cohort)))
    lines.append(t(lang, "adm_pay_customer", name=p.user_name, user_id=p.user_id))
    if p.customer_email:
        lines.append(t(lang, "adm_pay_email", email=p.customer_email))
    lines.append(
        t(lang, "adm_pay_amount", amount=money(p.amount), refunded=money(p.refunded_amount))
    )
    status = words.payment_status(lang, p.status, p.cancel_reason)
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
                at = short_moment(ticket.checked_in_at, tz)
                line += " · " + t(lang, "adm_pay_checked_in", at=at)
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
                status=words.subscription_status(lang, period.subscription_status),
                expires=moment(lang, expires, tz) if expires else "—",
            ),
        ]
    if details.renewal is not None:
        lines += ["", *renewal_lines(lang, details.renewal, tz)]
    if details.refunds:
        lines += ["", t(lang, "adm_pay_refunds")]
        lines += [
            f"• #{r.id} {money(r.amount)} — {words.refund_status(lang, r.status)} "
            f"({short_moment(r.created_at, tz)}"
            + (f", {t(lang, 'adm_source_admin')} {r.requested_by}" if r.requested_by else "")
            + ")"
            for r in details.refunds
        ]
    lines += ["", t(lang, "adm_pay_events", shown=len(details.events), total=details.events_total)]
    for event in details.events:
        said = f"{words.source(lang, event.source)}: {words.event(lang, event.event)}"
        if change := words.status_change(lang, event.status_before, event.status_after):
            said += f" ({change})"
        lines.append(f"• {short_moment(event.at, tz)} {said}")
    if details.audit:
        lines += ["", t(lang, "adm_pay_audit")]
        lines += [
            f"• {short_moment(a.at, tz)} {a.admin_id} {words.action(lang, a.action)}: "
            f"{words.result(lang, a.result)}"
            for a in details.audit
        ]
    return clip("\n".join(lines))


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
        await say(bot, message.chat.id, t(user.language, "adm_usage_payment"))
        return
    try:
        details = await admin.lookup.payment(int(user.id), args[0])
    except Refusal as exc:
        await refused(bot, message.chat.id, user, settings, exc)
        return
    await say(bot, message.chat.id, payment_text(user.language, details, catalog, settings.tz))


def create_router() -> Router:
    """Build the /payment router."""
    router = Router(name=__name__)
    router.message.register(cmd_payment, Command("payment"))
    return router
