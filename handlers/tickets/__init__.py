"""The ticket journey: date → slot → quantities → e-mail → summary → pay, in one edited message.

`journey.py` draws each step, `choice.py` takes the date, slot and quantities, `typed.py` takes
what is typed where buttons are expected, `checkout.py` navigates, takes the e-mail, starts the
payment and cancels.

A press that moves the journey on is answered after its new screen is sent, not before: the
screen reaches the customer one Bot API round trip sooner (a network round trip to Telegram),
the button's spinner shows until then, and a step that fails leaves the press for the error
handler's alert (an answered press takes no second answer). A refused press is answered at
once with the reason, and one that changes nothing at once.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, StateFilter

from bot.callbacks import MenuCb, TCalCb, TDateCb, TNavCb, TQtyCb, TSlotCb
from bot.filters import Magic
from bot.routing import KeyedRouter
from handlers.states import TicketFlow
from handlers.tickets.checkout import cmd_cancel, on_email, on_nav
from handlers.tickets.choice import (
    cmd_tickets,
    on_calendar,
    on_date,
    on_menu_tickets,
    on_quantity,
    on_slot,
)
from handlers.tickets.typed import on_typed

JOURNEY = StateFilter(
    TicketFlow.date, TicketFlow.slot, TicketFlow.quantities, TicketFlow.email, TicketFlow.summary
)


def create_router() -> KeyedRouter:
    """Build the ticket journey's router."""
    router = KeyedRouter(name=__name__)
    router.message.register(cmd_tickets, Command("tickets"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(on_menu_tickets, MenuCb.filter(F.action == "tickets"))
    router.callback_query.register(on_calendar, TCalCb.filter(), StateFilter(TicketFlow.date))
    router.callback_query.register(on_date, TDateCb.filter(), StateFilter(TicketFlow.date))
    router.callback_query.register(on_slot, TSlotCb.filter(), StateFilter(TicketFlow.slot))
    router.callback_query.register(on_quantity, TQtyCb.filter(), StateFilter(TicketFlow.quantities))
    router.callback_query.register(on_nav, TNavCb.filter(), JOURNEY)
    router.callback_query.register(on_nav, TNavCb.filter(), StateFilter(TicketFlow.paying))
    router.message.register(on_email, StateFilter(TicketFlow.email), Magic(F.text))
    router.message.register(
        on_typed,
        StateFilter(TicketFlow.date, TicketFlow.slot, TicketFlow.quantities, TicketFlow.summary),
        Magic(F.text),
    )
    return router
