"""aiogram routers, one module per user journey; `get_routers()` gives their order.

A customer's button press is answered after the screen it leads to is sent (the ticket
journey's docstring says why); a refused press is answered at once with the reason, one that
changes nothing at once, and an admin's press whose work may take long (an export, a refund at
YooKassa) is answered at once too, so Telegram's answer window never runs out.
"""

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

    Among the routers before the journey, whose commands, button prefixes and update kinds do
    not overlap, the customer's everyday screens come first and the rare ones (the language
    switch, the admin console, Stars payments) after them. aiogram walks every router ahead
    of the one that answers, at a cost per router comparable to a database read; each
    `KeyedRouter` (bot/routing.py) turns away at a glance the commands and buttons it has no
    handler for, so a journey's press passes the routers ahead of it for almost nothing.
    Stars must still precede the journey and the errors router, whose catch-alls would take a
    `successful_payment` message.
    """
    return [
        interrupt.create_router(),
        start.create_router(),
        subscribe.create_router(),
        my.create_router(),
        autorenew.create_router(),
        orders.create_router(),
        next_steps.create_router(),
        language.create_router(),
        admin.create_router(),
        stars.create_router(),
        tickets.create_router(),
        errors.create_router(),
    ]
