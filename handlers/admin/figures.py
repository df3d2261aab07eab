"""/stats: today's, 7-day and 30-day figures with the revenue chart."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message

from bot.texts import moment, money, t
from handlers.admin import words
from handlers.admin.replies import say
from handlers.admin.subscriptions import renewals_block
from payments.admin.charts import ChartLabels, revenue_chart
from payments.admin.console import AdminConsole
from payments.admin.figures import Stats
from payments.types import UserInfo
from settings import Settings

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024


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
    if stats.cohorts:
        counts = ", ".join(f"{words.cohort(lang, c)} — {n}" for c, n in stats.cohorts)
        lines.append(t(lang, "adm_stats_cohorts", counts=counts))
    if stats.renewals is not None:
        lines += renewals_block(lang, stats.renewals)
    return "\n".join(lines)


async def send_stats(
    bot: Bot, chat_id: int, user: UserInfo, admin: AdminConsole, settings: Settings
) -> None:
    """Send the figures under the revenue chart (the figures alone if the chart fails)."""
    lang = user.language
    stats = await admin.figures.stats(int(user.id))
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
        await say(bot, chat_id, caption)
        return
    photo = BufferedInputFile(png, f"revenue-{stats.as_of.astimezone(settings.tz):%Y%m%d}.png")
    if len(caption) <= CAPTION_LIMIT:
        await bot.send_photo(chat_id, photo, caption=caption, parse_mode=None)
    else:
        await bot.send_photo(chat_id, photo)
        await say(bot, chat_id, caption)


async def cmd_stats(
    message: Message, bot: Bot, user: UserInfo, admin: AdminConsole, settings: Settings
) -> None:
    """Send today's, 7-day and 30-day figures with the revenue chart."""
    await send_stats(bot, message.chat.id, user, admin, settings)


def create_router() -> Router:
    """Build the /stats router."""
    router = Router(name=__name__)
    router.message.register(cmd_stats, Command("stats"))
    return router
