"""The next steps under a final message (cancelled, paid, declined, expired): my tickets, buy
more, the menu, and after a decline "try again" with a new payment for the same order.

Each answer is a new message at the bottom of the chat; the final message keeps its text and
loses its buttons, so what happened stays readable above.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import NextCb, RetryCb
from bot.routing import KeyedRouter
from bot.texts import money, t
from handlers.my import my_view
from handlers.pay_message import refusal
from handlers.tickets.journey import journey_of
from payments.checkout.errors import ProviderDown, SoldOut, TooManyPending, TooManyUnpaidSeats
from payments.checkout.flow import Checkout
from payments.checkout.retry import NotRetryable
from payments.types import UserInfo
from settings import Settings

log = logging.getLogger(__name__)

_NOT_RETRYABLE = {
    "paid": "retry_paid",
    "date_gone": "retry_date_gone",
    "busy": "retry_busy",
    "open": "retry_open",
}


async def _keep_text_drop_buttons(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest as exc:
            log.debug("final message not retired: %s", exc)


async def on_next(
    query: CallbackQuery, callback_data: NextCb, state: FSMContext, **deps: Any
) -> None:
    """My tickets, buy more, or the menu, as a new message."""
    user: UserInfo = deps["user"]
    lang = user.language
    await _keep_text_drop_buttons(query)
    if callback_data.action == "tickets":
        await state.clear()
        await journey_of(state, deps).dates()
        await query.answer()
        return
    if callback_data.action == "my":
        text, markup = await my_view(
            user, deps["account"], deps["catalog"], deps["settings"], deps.get("auto_renewal")
        )
    else:
        text, markup = t(lang, "menu"), keyboards.main_menu(lang, deps.get("shop_url"))
    await deps["bot"].send_message(int(user.id), text, reply_markup=markup)
    await query.answer()


async def on_retry(  # noqa: PLR0911 - one answer per way a retry can end
    query: CallbackQuery,
    callback_data: RetryCb,
    user: UserInfo,
    bot: Bot,
    checkout: Checkout,
    settings: Settings,
) -> None:
    """Start a new payment for the declined payment's order, and send its pay message."""
    lang = user.language
    me = await bot.me()
    try:
        retried = await checkout.retry_payment(
            user.id, callback_data.payment_id, return_url=f"https://t.me/{me.username}"
        )
    except NotRetryable as exc:
        key = _NOT_RETRYABLE.get(exc.reason, "retry_unknown")
        await query.answer(t(lang, key), show_alert=True)
        return
    except SoldOut:
        await query.answer(t(lang, "retry_sold_out"), show_alert=True)
        return
    except (TooManyUnpaidSeats, TooManyPending, ProviderDown) as exc:
        await query.answer(refusal(lang, exc), show_alert=True)
        return
    if retried.reused:
        # A second tap: the new payment's message is already in the chat, with its button.
        await query.answer(t(lang, "retry_open"), show_alert=True)
        return
    await _keep_text_drop_buttons(query)
    result = retried.result
    price = money(result.amount)
    minutes = settings.PAYMENT_TTL_MINUTES
    if retried.order_id is not None:
        text = t(
            lang,
            "tickets_pay_summary",
            order_id=retried.order_id,
            description=result.description,
            price=price,
            minutes=minutes,
        )
    else:
        text = t(lang, "pay_summary", description=result.description, price=price, minutes=minutes)
    if settings.sandbox:
        text += f"\n\n{t(lang, 'sandbox_note')}"
    markup = keyboards.pay(lang, result.confirmation_url, price, result.payment_id)
    sent = await bot.send_message(int(user.id), text, reply_markup=markup)
    await checkout.attach_message(result.payment_id, sent.message_id)
    await query.answer()


def create_router() -> KeyedRouter:
    """Build the next steps' router."""
    router = KeyedRouter(name=__name__)
    router.callback_query.register(on_next, NextCb.filter())
    router.callback_query.register(on_retry, RetryCb.filter())
    return router
