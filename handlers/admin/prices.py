"""/prices and /setprice: each plan's price per cohort, and changing one."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.texts import money, t
from handlers.admin import words
from handlers.admin.parsing import parse_admin_amount
from handlers.admin.replies import refused, say
from payments.admin.console import AdminConsole
from payments.admin.prices import PriceList
from payments.admin.results import Refusal
from payments.catalog import Catalog
from payments.types import UserInfo
from settings import Settings


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
            f"  • {words.cohort_and_code(lang, c.cohort)}: {money(c.amount)} "
            f"({t(lang, f'adm_price_src_{c.source}')})"
            for c in plan.cohorts
        ]
    lines += ["", t(lang, "adm_prices_test", price=money(prices.test_price))]
    lines.append(t(lang, "adm_usage_setprice"))
    return "\n".join(lines)


async def send_prices(
    bot: Bot, chat_id: int, user: UserInfo, admin: AdminConsole, catalog: Catalog
) -> None:
    """Send every plan's price per cohort."""
    prices = await admin.prices.prices(int(user.id))
    await say(bot, chat_id, prices_text(user.language, prices, catalog))


async def cmd_prices(
    message: Message, bot: Bot, user: UserInfo, admin: AdminConsole, catalog: Catalog
) -> None:
    """Show every plan's price per cohort."""
    await send_prices(bot, message.chat.id, user, admin, catalog)


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
    amount = parse_admin_amount(args[2]) if len(args) == 3 else None
    if amount is None:
        await say(bot, message.chat.id, t(user.language, "adm_usage_setprice"))
        return
    try:
        change = await admin.prices.set_price(
            int(user.id), args[0].lower(), args[1].lower(), amount
        )
    except Refusal as exc:
        await refused(bot, message.chat.id, user, settings, exc)
        return
    await say(
        bot,
        message.chat.id,
        t(
            user.language,
            "adm_setprice_done",
            plan=change.plan_code,
            cohort=words.cohort_and_code(user.language, change.cohort),
            old=money(change.old),
            new=money(change.new),
        ),
    )


def create_router() -> Router:
    """Build the /prices and /setprice router."""
    router = Router(name=__name__)
    router.message.register(cmd_prices, Command("prices"))
    router.message.register(cmd_setprice, Command("setprice"))
    return router
