"""Digital plans paid in Telegram Stars: the invoice link, pre-checkout, the charges, cancel.

The Telegram calls live here; what they mean for our payments is `payments/stars.py`'s.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, LabeledPrice, Message, PreCheckoutQuery

from bot import keyboards
from bot.callbacks import StarsCancelCb, StarsPlanCb
from bot.filters import Magic
from bot.routing import KeyedRouter
from bot.texts import t
from payments.catalog import Catalog
from payments.checkout.errors import UnknownProduct
from payments.stars import CURRENCY, StarCharge, StarsBilling, StarsTarget
from payments.types import UserInfo

log = logging.getLogger(__name__)

TITLE_MAX = 32  # Telegram's limit on an invoice title


async def on_stars_plan(
    query: CallbackQuery,
    callback_data: StarsPlanCb,
    user: UserInfo,
    bot: Bot,
    stars: StarsBilling,
    catalog: Catalog,
) -> None:
    """Write the Stars payment, make its invoice link (a 30-day subscription) and show it."""
    lang = user.language
    plan = catalog.plan(callback_data.code)
    if plan is None or plan.stars is None:
        await query.answer(t(lang, "unknown_plan"), show_alert=True)
        return
    title = plan.title(lang).capitalize()
    description = t(lang, "stars_invoice_description", stars=plan.stars)
    try:
        invoice = await stars.start(user.id, plan.code, description=title)
    except UnknownProduct:
        await query.answer(t(lang, "unknown_plan"), show_alert=True)
        return
    link = await bot.create_invoice_link(
        title=title[:TITLE_MAX],
        description=description,
        payload=invoice.payload,
        currency=CURRENCY,
        prices=[LabeledPrice(label=t(lang, "stars_invoice_label"), amount=invoice.stars)],
        subscription_period=invoice.subscription_period,
    )
    text = t(lang, "stars_pay_summary", plan=title, stars=invoice.stars)
    markup = keyboards.stars_pay(lang, link, invoice.stars, invoice.payment_id)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    else:
        await bot.send_message(int(user.id), text, reply_markup=markup)
    await query.answer()


async def on_pre_checkout(query: PreCheckoutQuery, user: UserInfo, stars: StarsBilling) -> None:
    """Say yes only while the invoiced payment can still be paid at that amount."""
    answer = await stars.pre_checkout(
        user.id, query.invoice_payload, query.currency, query.total_amount
    )
    if answer.ok:
        await query.answer(ok=True)
        return
    await query.answer(ok=False, error_message=t(user.language, answer.reason or ""))


async def on_successful_payment(message: Message, user: UserInfo, stars: StarsBilling) -> None:
    """Apply a Stars charge (the first, or a renewal) once per charge id."""
    paid = message.successful_payment
    if paid is None or paid.currency != CURRENCY:
        return
    expires = paid.subscription_expiration_date
    outcome = await stars.charged(
        StarCharge(
            user_id=user.id,
            payload=paid.invoice_payload,
            currency=paid.currency,
            total_amount=paid.total_amount,
            charge_id=paid.telegram_payment_charge_id,
            provider_charge_id=paid.provider_payment_charge_id or None,
            is_recurring=bool(paid.is_recurring),
            is_first_recurring=bool(paid.is_first_recurring),
            subscription_expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
        )
    )
    log.info("Stars charge %s: %s", paid.telegram_payment_charge_id, outcome.value)


async def cancel_star_renewal(bot: Bot, stars: StarsBilling, user_id: str) -> StarsTarget | None:
    """Ask Telegram to stop renewing the user's Stars subscription; return it, or None."""
    target = await stars.renewing(user_id)
    if target is None:
        return None
    await bot.edit_user_star_subscription(
        user_id=int(user_id), telegram_payment_charge_id=target.charge_id, is_canceled=True
    )
    await stars.renewal_canceled(target)
    return target


async def on_stars_cancel(
    query: CallbackQuery, user: UserInfo, bot: Bot, stars: StarsBilling
) -> None:
    """Turn off the auto-renewal of the Stars subscription from /my."""
    lang = user.language
    try:
        target = await cancel_star_renewal(bot, stars, user.id)
    except TelegramAPIError as exc:
        log.warning("Stars renewal of %s not canceled: %s", user.id, exc)
        await query.answer(t(lang, "stars_renewal_cancel_failed"), show_alert=True)
        return
    key = "stars_renewal_canceled" if target else "stars_renewal_none"
    await bot.send_message(int(user.id), t(lang, key))
    await query.answer()


async def stars_refund(bot: Bot, stars: StarsBilling, reference: str, lang: str) -> str:
    """Refund a Stars payment through `refundStarPayment`; return the admin's answer."""
    target = await stars.refundable(reference)
    if target is None:
        return t(lang, "adm_stars_not_refundable", payment_id=reference)
    try:
        await bot.refund_star_payment(
            user_id=int(target.user_id), telegram_payment_charge_id=target.charge_id
        )
    except TelegramBadRequest as exc:
        return t(lang, "adm_stars_refund_failed", payment_id=target.payment_id, reason=exc.message)
    await stars.refunded(target)
    return t(lang, "adm_stars_refunded", stars=target.stars, payment_id=target.payment_id)


def create_router() -> KeyedRouter:
    """Build the Stars router: before every text step, so a payment message is never eaten."""
    router = KeyedRouter(name=__name__)
    router.callback_query.register(on_stars_plan, StarsPlanCb.filter())
    router.callback_query.register(on_stars_cancel, StarsCancelCb.filter())
    router.pre_checkout_query.register(on_pre_checkout)
    router.message.register(on_successful_payment, Magic(F.successful_payment))
    return router
