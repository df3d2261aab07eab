"""The subscription journey: plans at this user's prices, the pay button, cancel."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.callbacks import ArAgreeCb, ArToggleCb, MenuCb, PayCancelCb, PlanCb
from bot.routing import KeyedRouter
from bot.texts import day, money, plan_description, t
from handlers.autorenew import bot_consent, terms_view
from handlers.pay_message import minutes_left, refusal, retire
from payments.account import Account
from payments.catalog import Catalog
from payments.checkout.errors import ProviderDown, TooManyPending, UnknownProduct
from payments.checkout.flow import Checkout
from payments.checkout.results import CheckoutResult
from payments.ports import Clock
from payments.subscriptions.consent import AutoRenewConsent
from payments.types import Cohort, SubscriptionStatus, UserInfo
from settings import Settings

log = logging.getLogger(__name__)


async def _plans_view(
    user: UserInfo,
    checkout: Checkout,
    account: Account,
    catalog: Catalog,
    settings: Settings,
    *,
    auto_renew: bool = False,
) -> tuple[str, InlineKeyboardMarkup]:
    lang = user.language
    quotes = await checkout.quote_plans(user.id)
    lines = [t(lang, "plans_title", shop=catalog.shop.name)]
    summary = await account.summary(user.id)
    sub = summary.subscription
    if sub is not None and sub.status is SubscriptionStatus.ACTIVE:
        lines.append(
            t(lang, "plans_active", date=day(lang, sub.expires_at.astimezone(settings.tz).date()))
        )
    if quotes and quotes[0].cohort is Cohort.TEST:
        lines.append(t(lang, "plans_test", price=money(quotes[0].amount, lang)))
    if settings.sandbox:
        lines.append(t(lang, "sandbox_note"))
    if auto_renew:
        lines.append(t(lang, "plans_autorenew_on"))
    buttons = []
    for quote in quotes:
        plan = catalog.plan(quote.plan_code)
        title = plan.title(lang).capitalize() if plan else quote.plan_code
        buttons.append(
            (t(lang, "plan_button", title=title, price=money(quote.amount, lang)), quote.plan_code)
        )
    # Digital plans: Telegram Stars only (handlers/stars.py), at the catalog's price.
    stars = [
        (t(lang, "plan_button_stars", title=p.title(lang).capitalize(), stars=p.stars), p.code)
        for p in catalog.stars_plans
    ]
    return "\n\n".join(lines), keyboards.plans(lang, buttons, stars, auto_renew=auto_renew)


async def cmd_subscribe(
    message: Message,
    user: UserInfo,
    checkout: Checkout,
    account: Account,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Show the plans with this user's prices."""
    text, markup = await _plans_view(user, checkout, account, catalog, settings)
    await message.answer(text, reply_markup=markup)


async def on_menu_subscribe(
    query: CallbackQuery,
    user: UserInfo,
    checkout: Checkout,
    account: Account,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Show the plans in place of the menu."""
    text, markup = await _plans_view(user, checkout, account, catalog, settings)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


def _pay_text(
    lang: str,
    code: str,
    result: CheckoutResult,
    settings: Settings,
    catalog: Catalog,
    now: datetime,
) -> str:
    plan = catalog.plan(code)
    description = plan_description(
        lang,
        catalog.shop.name,
        plan.title(lang) if plan else code,
        plan.days if plan else 0,
        result.amount,
        is_test=result.is_test,
    )
    text = t(
        lang,
        "pay_summary",
        description=description,
        price=money(result.amount, lang),
        minutes=minutes_left(result, now),
    )
    return f"{text}\n\n{t(lang, 'sandbox_note')}" if settings.sandbox else text


async def on_toggle(
    query: CallbackQuery,
    callback_data: ArToggleCb,
    user: UserInfo,
    checkout: Checkout,
    account: Account,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """Flip the plan screen's auto-renewal toggle (off by default)."""
    text, markup = await _plans_view(
        user, checkout, account, catalog, settings, auto_renew=bool(callback_data.on)
    )
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):
                raise
    await query.answer()


async def on_plan(  # noqa: PLR0913 - aiogram's DI
    query: CallbackQuery,
    callback_data: PlanCb,
    user: UserInfo,
    bot: Bot,
    checkout: Checkout,
    account: Account,
    settings: Settings,
    state: FSMContext,
    clock: Clock,
    catalog: Catalog,
) -> None:
    """Start a payment for the chosen plan and turn the message into its pay button.

    Pressed again while that payment is pending, the same payment and link are shown. With
    the auto-renewal toggle on, the terms come first (paid after "I agree").
    """
    if callback_data.ar:
        plan = catalog.plan(callback_data.code)
        if plan is None or plan.digital:
            await query.answer(t(user.language, "unknown_plan"), show_alert=True)
            return
        text, markup = await terms_view(
            user, plan, checkout=checkout, account=account, settings=settings, clock=clock
        )
        if isinstance(query.message, Message):
            await query.message.edit_text(text, reply_markup=markup)
        await query.answer()
        return
    await _pay(
        query, callback_data.code, None, user, bot, checkout, settings, state, clock, catalog
    )


async def on_agree(  # noqa: PLR0913 - aiogram's DI
    query: CallbackQuery,
    callback_data: ArAgreeCb,
    user: UserInfo,
    bot: Bot,
    checkout: Checkout,
    settings: Settings,
    state: FSMContext,
    clock: Clock,
    catalog: Catalog,
) -> None:
    """The customer agreed to the auto-renewal terms: pay for the plan with that consent."""
    await _pay(
        query, callback_data.code, bot_consent(), user, bot, checkout, settings, state, clock,
        catalog,
    )  # fmt: skip


async def _pay(  # noqa: PLR0913
    query: CallbackQuery,
    code: str,
    consent: AutoRenewConsent | None,
    user: UserInfo,
    bot: Bot,
    checkout: Checkout,
    settings: Settings,
    state: FSMContext,
    clock: Clock,
    catalog: Catalog,
) -> None:
    lang = user.language
    me = await bot.me()
    try:
        result = await checkout.start_subscription(
            user.id,
            code,
            return_url=f"https://t.me/{me.username}",
            reuse_pending=True,
            auto_renew=consent,
        )
    except (TooManyPending, ProviderDown) as exc:
        await query.answer(refusal(lang, exc), show_alert=True)
        return
    except UnknownProduct:
        await query.answer(t(lang, "unknown_plan"), show_alert=True)
        return
    markup = keyboards.pay(
        lang, result.confirmation_url, money(result.amount, lang), result.payment_id
    )
    text = _pay_text(lang, code, result, settings, catalog, clock.now())
    here = query.message.message_id if isinstance(query.message, Message) else None
    if result.reused and result.message_id not in (None, here):
        # The same payment's button lives in another message: only one stays live.
        await retire(bot, int(user.id), result.message_id, lang)
    if isinstance(query.message, Message):
        # Remember the message before showing the button: a fast payment must find it.
        await checkout.attach_message(result.payment_id, query.message.message_id)
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):
                raise
    else:
        sent = await bot.send_message(int(user.id), text, reply_markup=markup)
        await checkout.attach_message(result.payment_id, sent.message_id)
        here = sent.message_id
    await query.answer()
    if await state.get_state() is None:
        # /cancel finds the payment the customer is in the middle of.
        await state.set_data({"payment_id": result.payment_id, "pay_msg_id": here})


async def on_pay_cancel(
    query: CallbackQuery,
    callback_data: PayCancelCb,
    user: UserInfo,
    checkout: Checkout,
    state: FSMContext,
) -> None:
    """Cancel a pending payment from its pay message; the message then offers what next."""
    lang = user.language
    canceled = await checkout.cancel_by_user(callback_data.payment_id, user.id)
    if not canceled:
        await query.answer(t(lang, "payment_already_final"), show_alert=True)
        return
    data = await state.get_data()
    if data.get("payment_id") == callback_data.payment_id:
        await state.clear()
    order_id = data.get("order_id") if data.get("payment_id") == callback_data.payment_id else None
    text = (
        t(lang, "pay_message_user_canceled", order_id=order_id)
        if order_id
        else t(lang, "payment_canceled_by_user")
    )
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboards.final_keyboard(lang))
    await query.answer()


def create_router() -> KeyedRouter:
    """Build the subscription journey's router."""
    router = KeyedRouter(name=__name__)
    router.message.register(cmd_subscribe, Command("subscribe"))
    router.callback_query.register(on_menu_subscribe, MenuCb.filter(F.action == "subscribe"))
    router.callback_query.register(on_plan, PlanCb.filter())
    router.callback_query.register(on_toggle, ArToggleCb.filter())
    router.callback_query.register(on_agree, ArAgreeCb.filter())
    router.callback_query.register(on_pay_cancel, PayCancelCb.filter())
    return router
