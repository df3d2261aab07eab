"""/my: what the customer owns."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.callbacks import MenuCb
from bot.keyboards import back_to_menu
from bot.settings import Settings
from bot.texts import day, t
from payments.account import Account
from payments.catalog import Catalog
from payments.types import SubscriptionStatus, UserInfo


async def _my_text(user: UserInfo, account: Account, catalog: Catalog, settings: Settings) -> str:
    lang = user.language
    summary = await account.summary(user.id)
    parts = []
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
    if not parts:
        return t(lang, "my_empty")
    return "\n\n".join(parts)


async def cmd_my(
    message: Message, user: UserInfo, account: Account, catalog: Catalog, settings: Settings
) -> None:
    """Show the subscription and tickets."""
    text = await _my_text(user, account, catalog, settings)
    await message.answer(text, reply_markup=back_to_menu(user.language))


async def on_menu_my(
    query: CallbackQuery, user: UserInfo, account: Account, catalog: Catalog, settings: Settings
) -> None:
    """Show the purchases in place of the menu."""
    await query.answer()
    text = await _my_text(user, account, catalog, settings)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=back_to_menu(user.language))


def create_router() -> Router:
    """Build the purchases router."""
    router = Router(name=__name__)
    router.message.register(cmd_my, Command("my"))
    router.callback_query.register(on_menu_my, MenuCb.filter(F.action == "my"))
    return router
