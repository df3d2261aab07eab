"""Auto-renewal in the chat: the terms before a consented payment, the switches in /my and
under the notice (off, on again, forget the card, change the card), and paying a declined
renewal by hand. A button whose action is no longer possible answers what happened."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards, keyboards_renewal
from bot.callbacks import ArAgreeCb, ArCb, RenewPayCb
from bot.routing import KeyedRouter
from bot.texts import day, money, t
from handlers.pay_message import refusal
from payments.account import Account
from payments.catalog import Catalog, Plan
from payments.checkout.errors import ProviderDown, TooManyPending
from payments.checkout.flow import Checkout
from payments.ports import Clock
from payments.subscriptions.checkout import RenewalNotPayable
from payments.subscriptions.consent import AutoRenewal, AutoRenewConsent
from payments.types import SubscriptionStatus, UserInfo
from settings import Settings

log = logging.getLogger(__name__)

# The version of the terms text the bot shows (autorenew_terms*): stored with each consent.
TERMS_VERSION = "bot-autorenew-terms-v1"


def bot_consent() -> AutoRenewConsent:
    """The consent given by pressing "I agree" under the terms in the chat."""
    return AutoRenewConsent(text_version=TERMS_VERSION, channel="bot")


def next_charge(ends: datetime, settings: Settings) -> datetime:
    """When the renewal of a period ending at `ends` is charged (the lead before the end)."""
    return ends - timedelta(hours=settings.RENEWAL_LEAD_HOURS)


async def terms_view(
    user: UserInfo,
    plan: Plan,
    *,
    checkout: Checkout,
    account: Account,
    settings: Settings,
    clock: Clock,
    new_card: bool = False,
) -> tuple[str, InlineKeyboardMarkup]:
    """The terms shown before a consented payment: amount, period, next charge, how to stop."""
    lang = user.language
    quotes = {q.plan_code: q for q in await checkout.quote_plans(user.id)}
    price = money(quotes[plan.code].amount, lang) if plan.code in quotes else ""
    summary = await account.summary(user.id)
    sub = summary.subscription
    start = clock.now()
    if sub is not None and sub.status is SubscriptionStatus.ACTIVE and sub.expires_at > start:
        start = sub.expires_at
    charge = next_charge(start + timedelta(days=plan.days), settings)
    period = t(lang, "autorenew_days", days=plan.days)
    text = t(
        lang,
        "autorenew_terms",
        plan=plan.title(lang),
        price=price,
        period=period,
        date=day(lang, charge.astimezone(settings.tz).date()),
    )
    if new_card:
        text = f"{text}\n\n{t(lang, 'autorenew_new_card', period=period)}"
    markup = keyboards_renewal.autorenew_terms(lang, price, agree=ArAgreeCb(code=plan.code))
    return text, markup


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        log.debug("auto-renewal message not edited: %s", exc)


async def on_switch(  # noqa: PLR0911, PLR0913 - one branch per switch, aiogram's DI
    query: CallbackQuery,
    callback_data: ArCb,
    user: UserInfo,
    auto_renewal: AutoRenewal,
    account: Account,
    checkout: Checkout,
    catalog: Catalog,
    settings: Settings,
    clock: Clock,
) -> None:
    """Turn auto-renewal off, show the terms to turn it on again, turn it on, forget the card,
    or change the card (the terms of a new consented purchase of the same plan)."""
    lang = user.language
    action = callback_data.action
    summary = await account.summary(user.id)
    sub = summary.subscription
    state = await auto_renewal.state(user.id)
    back = keyboards.back_to_menu(lang)
    if sub is None or state is None:
        await query.answer(t(lang, "autorenew_no_subscription"), show_alert=True)
        await _edit(query, t(lang, "autorenew_no_subscription"), back)
        return
    until = day(lang, sub.expires_at.astimezone(settings.tz).date())
    plan = catalog.plan(sub.plan_code)
    if action == "off":
        if await auto_renewal.turn_off(user.id):
            await _edit(query, t(lang, "autorenew_turned_off", date=until), back)
            await query.answer()
        else:
            await query.answer(t(lang, "autorenew_already_off"), show_alert=True)
            await _edit(query, t(lang, "autorenew_already_off"), back)
        return
    if action == "forget":
        if await auto_renewal.forget_method(user.id):
            await _edit(query, t(lang, "autorenew_forgotten", date=until), back)
            await query.answer()
        else:
            await query.answer(t(lang, "autorenew_no_card"), show_alert=True)
            await _edit(query, t(lang, "autorenew_no_card"), back)
        return
    if plan is None:
        await query.answer(t(lang, "unknown_plan"), show_alert=True)
        return
    if action == "card":
        text, markup = await terms_view(
            user, plan, checkout=checkout, account=account, settings=settings, clock=clock,
            new_card=True,
        )  # fmt: skip
        await _edit(query, text, markup)
        await query.answer()
        return
    # "on" (show the terms again) and "on_ok" (agreed): the saved card, this plan's price.
    if state.auto_renew:
        await query.answer(t(lang, "autorenew_already_on"), show_alert=True)
        await _edit(query, t(lang, "autorenew_already_on"), back)
        return
    if state.method_title is None or sub.status is not SubscriptionStatus.ACTIVE:
        await query.answer(t(lang, "autorenew_no_card"), show_alert=True)
        await _edit(query, t(lang, "autorenew_no_card"), back)
        return
    quotes = {q.plan_code: q for q in await checkout.quote_plans(user.id)}
    amount = quotes[plan.code].amount if plan.code in quotes else None
    if amount is None:
        await query.answer(t(lang, "unknown_plan"), show_alert=True)
        return
    charge = day(lang, next_charge(sub.expires_at, settings).astimezone(settings.tz).date())
    price = money(amount, lang)
    if action == "on":
        text = t(
            lang,
            "autorenew_terms_again",
            plan=plan.title(lang),
            price=price,
            period=t(lang, "autorenew_days", days=plan.days),
            card=state.method_title,
            date=charge,
        )
        await _edit(
            query, text, keyboards_renewal.autorenew_terms(lang, price, agree=ArCb(action="on_ok"))
        )
        await query.answer()
        return
    if await auto_renewal.turn_on(user.id, bot_consent(), amount=amount, days=plan.days):
        await _edit(
            query, t(lang, "autorenew_turned_on", card=state.method_title, date=charge), back
        )
        await query.answer()
    else:
        await query.answer(t(lang, "autorenew_no_card"), show_alert=True)
        await _edit(query, t(lang, "autorenew_no_card"), back)


async def on_renewal_pay(
    query: CallbackQuery,
    callback_data: RenewPayCb,
    user: UserInfo,
    bot: Bot,
    checkout: Checkout,
) -> None:
    """Pay a declined renewal by hand: a payment at its stated price, its link in place."""
    lang = user.language
    me = await bot.me()
    try:
        result = await checkout.pay_renewal(
            user.id, callback_data.renewal_id, return_url=f"https://t.me/{me.username}"
        )
    except RenewalNotPayable:
        await query.answer(t(lang, "autorenew_not_payable"), show_alert=True)
        if isinstance(query.message, Message):
            try:
                await query.message.edit_reply_markup(reply_markup=None)
            except TelegramBadRequest as exc:
                log.debug("renewal message not edited: %s", exc)
        return
    except (TooManyPending, ProviderDown) as exc:
        await query.answer(refusal(lang, exc), show_alert=True)
        return
    markup = keyboards.pay(
        lang, result.confirmation_url, money(result.amount, lang), result.payment_id
    )
    if isinstance(query.message, Message):
        # Remember the message first: the paid payment retires its button there.
        await checkout.attach_message(result.payment_id, query.message.message_id)
        await query.message.edit_reply_markup(reply_markup=markup)
    else:
        sent = await bot.send_message(
            int(user.id), t(lang, "btn_autorenew_pay", price=money(result.amount, lang)),
            reply_markup=markup,
        )  # fmt: skip
        await checkout.attach_message(result.payment_id, sent.message_id)
    await query.answer()


def create_router() -> KeyedRouter:
    """Build the auto-renewal router (the switches and the pay-now of a declined renewal)."""
    router = KeyedRouter(name=__name__)
    router.callback_query.register(on_switch, ArCb.filter())
    router.callback_query.register(on_renewal_pay, RenewPayCb.filter())
    return router
