"""The ticket journey's last steps: navigation, e-mail, pay, and /cancel."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import TNavCb
from bot.keyboards import final_keyboard
from bot.texts import money, t, tickets_description
from handlers.pay_message import minutes_left, refusal, retire
from handlers.states import TicketFlow
from handlers.tickets.journey import Journey, journey_of
from payments.checkout.errors import ProviderDown, SoldOut, TooManyPending, TooManyUnpaidSeats
from payments.checkout.flow import Checkout
from payments.emails import BadEmail, normalise_email
from payments.tickets.rules import InvalidOrder
from payments.types import UserInfo
from settings import Settings


async def on_nav(
    query: CallbackQuery,
    callback_data: TNavCb,
    state: FSMContext,
    checkout: Checkout,
    settings: Settings,
    **deps: Any,
) -> None:
    """Back, next, skip the e-mail, pay, or cancel."""
    journey = journey_of(state, deps)
    lang = journey.lang
    current = await state.get_state()
    action = callback_data.action
    data = await state.get_data()
    if action == "pay" and current in (TicketFlow.summary.state, TicketFlow.paying.state):
        # Pressed again (a double tap, an old summary): the same choices reuse the payment.
        await pay(query, journey, checkout, settings, data)
        return
    if action == "cancel":
        payment_id = data.get("payment_id")
        if payment_id and not await checkout.cancel_by_user(str(payment_id), journey.user.id):
            await query.answer(t(lang, "payment_already_final"), show_alert=True)
            return
        await journey.show(t(lang, "journey_canceled"), keyboards.final_keyboard(lang))
        await state.clear()
        await query.answer()
        return
    if current == TicketFlow.paying.state:
        await query.answer(t(lang, "stale_button"), show_alert=True)
        return
    if action == "back":
        if current == TicketFlow.slot.state:
            await journey.dates()
        elif current == TicketFlow.quantities.state:
            await journey.slots(date.fromisoformat(data["date"]))
        elif current == TicketFlow.email.state:
            await journey.quantities()
        elif current == TicketFlow.summary.state:
            await journey.email()
        await query.answer()
        return
    if action == "next" and current == TicketFlow.quantities.state:
        if not any(n > 0 for n in data.get("qty", {}).values()):
            await query.answer(t(lang, "qty_empty"), show_alert=True)
            return
        await journey.email()
        await query.answer()
        return
    if action == "skip_email" and current == TicketFlow.email.state:
        await state.update_data(email=None)
        await journey.summary()
        await query.answer()
        return
    await query.answer(t(lang, "stale_button"), show_alert=True)


async def pay(
    query: CallbackQuery,
    journey: Journey,
    checkout: Checkout,
    settings: Settings,
    data: dict[str, Any],
) -> None:
    """Start (or reuse) the payment of the journey's order and show its pay button."""
    lang = journey.lang
    try:
        order = journey.order(data)
    except InvalidOrder:
        await query.answer(t(lang, "date_gone"), show_alert=True)
        await journey.dates()
        return
    me = await journey.bot.me()
    # At once, before the seats are held and YooKassa is asked (hundreds of milliseconds across
    # the internet, seconds in a sale rush): the press shows as taken, and the summary's
    # buttons go, so a second tap cannot start a second checkout meanwhile.
    await journey.show(t(lang, "pay_preparing"), None)
    message_id = (await journey.state.get_data()).get("msg_id")
    try:
        started = await checkout.start_tickets(
            journey.user.id,
            order,
            return_url=f"https://t.me/{me.username}",
            email=data.get("email"),
            reuse_pending=True,
            # Remembered with the payment before the button shows: a fast payment finds it.
            message_id=None if message_id is None else int(message_id),
        )
    except SoldOut as exc:
        await query.answer(t(lang, "sold_out_now", left=exc.seats_left), show_alert=True)
        await journey.slots(order.visit_date)
        return
    except (TooManyUnpaidSeats, TooManyPending, ProviderDown) as exc:
        await query.answer(refusal(lang, exc), show_alert=True)
        await journey.summary()  # the order and its pay button again, to try later
        return
    except Exception:
        # Anything else: the error handler answers the press and logs it; the summary and its
        # pay button come back, so the message is not left saying "preparing" (best effort:
        # the failure may be Telegram's own).
        with contextlib.suppress(Exception):
            await journey.summary()
        raise
    result = started.result
    text = t(
        lang,
        "tickets_pay_summary",
        order_id=started.order_id,
        description=tickets_description(lang, order.visit_date, is_test=result.is_test),
        price=money(result.amount, lang),
        minutes=minutes_left(result, journey.clock.now()),
    )
    if settings.sandbox:
        text += f"\n\n{t(lang, 'sandbox_note')}"
    if result.reused and result.message_id != message_id:
        if result.message_id is not None:
            # The same order was shown with its pay button in another message: one stays live.
            await retire(journey.bot, int(journey.user.id), result.message_id, lang)
        if message_id is not None:
            # A reused payment remembers this message now, before the button shows.
            await checkout.attach_message(result.payment_id, int(message_id))
    await journey.state.set_state(TicketFlow.paying)
    await journey.state.update_data(
        payment_id=result.payment_id, order_id=started.order_id, pay_msg_id=message_id
    )
    await journey.show(
        text,
        keyboards.pay(lang, result.confirmation_url, money(result.amount, lang), result.payment_id),
    )
    await query.answer()


async def on_email(message: Message, state: FSMContext, **deps: Any) -> None:
    """Take the e-mail address typed by the user, or explain what is wrong with it."""
    journey = journey_of(state, deps)
    try:
        email = normalise_email(message.text or "")
    except BadEmail:
        await message.answer(t(journey.lang, "bad_email"))
        return
    await state.update_data(email=email)
    # The address is the customer's newest message: the summary goes below it, and the old
    # step becomes one line saying what was taken.
    await journey.retire(t(journey.lang, "chosen_email", email=email))
    await journey.summary()


async def cmd_cancel(
    message: Message, state: FSMContext, user: UserInfo, checkout: Checkout, bot: Bot
) -> None:
    """Cancel the journey; an unpaid payment is canceled and its seats released at once.

    The message that showed the pay button (or the journey's step) is edited too, so no live
    "Pay" is left above the answer.
    """
    lang = user.language
    data = await state.get_data()
    current = await state.get_state()
    await state.clear()
    payment_id = data.get("payment_id")
    released = bool(payment_id) and await checkout.cancel_by_user(str(payment_id), user.id)
    if payment_id and not released:
        # Paid (or ended) meanwhile: nothing to cancel, and its message already says so.
        await message.answer(t(lang, "payment_already_final"), reply_markup=final_keyboard(lang))
        return
    if current is None and not released:
        await message.answer(t(lang, "nothing_to_cancel"), reply_markup=final_keyboard(lang))
        return
    shown = data.get("pay_msg_id") or data.get("msg_id")
    if shown is not None:
        order_id = data.get("order_id")
        if released and order_id:
            line = t(lang, "pay_message_user_canceled", order_id=order_id)
        else:
            line = t(lang, "pay_message_canceled" if released else "journey_canceled")
        await retire(bot, message.chat.id, int(shown), lang, line)
    key = "journey_canceled" if current is not None else "payment_canceled_by_user"
    await message.answer(t(lang, key), reply_markup=final_keyboard(lang))
