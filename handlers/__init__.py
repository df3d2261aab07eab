"""aiogram routers, one module per user journey; `get_routers()` gives their order."""

from __future__ import annotations

from aiogram import Router

from handlers import admin, errors, my, start, subscribe, tickets


def get_routers() -> list[Router]:
    """Build fresh routers, one set per dispatcher, in order: errors and fallbacks last.

    The admin router comes before the journeys: their state handlers take any text (the ticket
    journey's e-mail step), and an admin mid-journey must still reach the console.
    """
    return [
        start.create_router(),
        admin.create_router(),
        subscribe.create_router(),
        tickets.create_router(),
        my.create_router(),
        errors.create_router(),
    ]
