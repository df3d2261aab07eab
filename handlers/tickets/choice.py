"""The ticket journey's choices: start, date, slot and quantities."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import TCalCb, TDateCb, TQtyCb, TSlotCb
from bot.texts import t
from handlers.tickets.journey import journey_of


async def cmd_tickets(message: Message, state: FSMContext, **deps: Any) -> None:
    """Start the journey with a new message."""
    await state.clear()
    journey = journey_of(state, deps)
    await journey.dates()


async def on_menu_tickets(query: CallbackQuery, state: FSMContext, **deps: Any) -> None:
    """Start the journey in place of the menu."""
    await state.clear()
    if isinstance(query.message, Message):
        await state.update_data(msg_id=query.message.message_id)
    await journey_of(state, deps).dates()
    await query.answer()


async def on_calendar(
    query: CallbackQuery, callback_data: TCalCb, state: FSMContext, **deps: Any
) -> None:
    """Show another month, or say why a calendar cell picks nothing."""
    journey = journey_of(state, deps)
    cell = callback_data.m
    if cell == "closed":
        await query.answer(t(journey.lang, "cal_closed"))
        return
    if len(cell) != len("YYYYMM") or not (cell.isascii() and cell.isdigit()):
        await query.answer(t(journey.lang, "cal_unavailable") if cell == "-" else None)
        return
    try:
        month = date(int(cell[:4]), int(cell[4:]), 1)
    except ValueError:
        await query.answer()
        return
    await journey.dates(month)
    await query.answer()


async def on_date(
    query: CallbackQuery, callback_data: TDateCb, state: FSMContext, **deps: Any
) -> None:
    """Take a date if it is still bookable (an old keyboard may offer a past one)."""
    journey = journey_of(state, deps)
    try:
        if not callback_data.d.isascii():  # strptime takes any script's digits
            raise ValueError(callback_data.d)
        visit_date = datetime.strptime(callback_data.d, "%Y%m%d").date()  # noqa: DTZ007 - a date
    except ValueError:
        visit_date = None
    if visit_date is None or not journey.rules.day_open(visit_date, journey.clock.now()):
        await query.answer(t(journey.lang, "date_gone"), show_alert=True)
        return
    await journey.slots(visit_date)
    await query.answer()


async def on_slot(
    query: CallbackQuery, callback_data: TSlotCb, state: FSMContext, **deps: Any
) -> None:
    """Take a slot if it is open and has seats."""
    journey = journey_of(state, deps)
    data = await state.get_data()
    visit_date = date.fromisoformat(data["date"])
    slot = f"{callback_data.slot[:2]}:{callback_data.slot[2:]}"
    seats = {s.slot_time: s.left for s in await journey.availability.seats(visit_date)}
    now = journey.clock.now()
    if slot not in seats or not journey.rules.slot_open(visit_date, slot, now) or seats[slot] <= 0:
        await query.answer(t(journey.lang, "slot_gone"), show_alert=True)
        return
    await state.update_data(slot=slot)
    await journey.quantities()
    await query.answer()


async def on_quantity(
    query: CallbackQuery, callback_data: TQtyCb, state: FSMContext, **deps: Any
) -> None:
    """Change a quantity; never below zero, never above the order limit."""
    journey = journey_of(state, deps)
    lang = journey.lang
    if callback_data.delta == 0 or journey.catalog.tickets.type(callback_data.code) is None:
        await query.answer()
        return
    data = await state.get_data()
    qty: dict[str, int] = dict(data.get("qty", {}))
    current = qty.get(callback_data.code, 0)
    wanted = current + (1 if callback_data.delta > 0 else -1)
    limit = journey.catalog.tickets.max_tickets_per_order
    if wanted < 0:
        await query.answer(t(lang, "qty_below_zero"), show_alert=True)
        return
    if sum(qty.values()) - current + wanted > limit:
        await query.answer(t(lang, "qty_too_many", max=limit), show_alert=True)
        return
    qty[callback_data.code] = wanted
    await state.update_data(qty=qty)
    await journey.quantities()
    await query.answer()
