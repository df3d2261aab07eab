"""Book again (after a hold expired) and try again (after a decline): the same choices anew.

The button carries the ended payment's id; its order (or plan) gives the date, slot,
quantities and e-mail back to the journey, which shows the summary if the seats are still
there (book again) or goes straight to a new payment (try again).
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import AgainCb, PlanCb
from bot.routing import KeyedRouter
from bot.texts import day, t
from handlers.states import TicketFlow
from handlers.subscribe import on_plan
from handlers.tickets.checkout import pay
from handlers.tickets.journey import journey_of
from payments.checkout.flow import Checkout
from payments.tickets.rules import InvalidOrder
from payments.types import PaymentKind, UserInfo
from settings import Settings


async def on_again(
    query: CallbackQuery,
    callback_data: AgainCb,
    state: FSMContext,
    user: UserInfo,
    checkout: Checkout,
    settings: Settings,
    **deps: Any,
) -> None:
    """Rebuild the journey from an ended payment's choices."""
    lang = user.language
    choices = await checkout.choices_of(callback_data.payment_id, user.id)
    if choices is None:
        await query.answer(t(lang, "again_gone"), show_alert=True)
        return
    if choices.kind == PaymentKind.SUBSCRIPTION and choices.plan_code:
        await on_plan(
            query,
            PlanCb(code=choices.plan_code),
            user,
            deps["bot"],
            checkout,
            deps["account"],
            settings,
            state,
            deps["clock"],
            deps["catalog"],
        )
        return
    if choices.visit_date is None or choices.slot_time is None:
        await query.answer(t(lang, "again_gone"), show_alert=True)
        return
    await state.clear()
    await state.set_data(
        {
            "date": choices.visit_date.isoformat(),
            "slot": choices.slot_time,
            "qty": dict(choices.quantities),
            "email": choices.email,
            **({"msg_id": query.message.message_id} if isinstance(query.message, Message) else {}),
        }
    )
    journey = journey_of(state, {"user": user, **deps})
    try:
        order = journey.order(await state.get_data())
    except InvalidOrder:
        await query.answer(t(lang, "again_gone"), show_alert=True)
        await journey.dates()
        return
    seats = {s.slot_time: s.left for s in await journey.availability.seats(order.visit_date)}
    left = seats.get(order.slot_time, 0)
    if left < order.seats:
        when = {"date": day(lang, order.visit_date), "time": order.slot_time}
        await query.answer(t(lang, "again_no_seats", left=left, **when), show_alert=True)
        await journey.slots(order.visit_date)
        return
    await state.set_state(TicketFlow.summary)
    if callback_data.mode == "r":
        await pay(query, journey, checkout, settings, await state.get_data())
        return
    await journey.summary()
    await query.answer()


def create_router() -> KeyedRouter:
    """Build the router of book again / try again."""
    router = KeyedRouter(name=__name__)
    router.callback_query.register(on_again, AgainCb.filter())
    return router
