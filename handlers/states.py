"""FSM states of the journeys."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class TicketFlow(StatesGroup):
    """Buying tickets: date, slot, quantities, e-mail, summary, paying."""

    date = State()
    slot = State()
    quantities = State()
    email = State()
    summary = State()
    paying = State()
