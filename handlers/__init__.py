"""aiogram routers, one module per user journey; `get_routers()` gives their order."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    autorenew,
    errors,
    interrupt,
    language,
    my,
    next_steps,
    orders,
    stars,
    start,
    subscribe,
    tickets,
)


def get_routers() -> list[Router]:
    """Build fresh routers, one set per dispatcher, in order: errors and fallbacks last.

    Routers whose handlers only answer commands and buttons come before the ticket journey,
    whose e-mail step takes any text: a customer who types /my or an admin who types /stats
    halfway through the journey gets that command, not "this is not an e-mail". The
    interrupting router comes first: a menu command ends the journey, then runs.
    """
    return [
        stars.create_router(),
        interrupt.create_router(),
        start.create_router(),
        language.create_router(),
        admin.create_router(),
        subscribe.create_router(),
        my.create_router(),
        autorenew.create_router(),
        orders.create_router(),
        next_steps.create_router(),
        tickets.create_router(),
        errors.create_router(),
    ]
