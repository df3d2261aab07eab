"""The admin console in the chat, one router module per capability of payments/admin/.

Only ADMIN_IDS reach it, except /checkin, which gate staff (STAFF_IDS) may use too; everyone
else is told it is not available (gate.py). Handlers parse arguments (bad ones get the usage
line), call one use-case of the `admin` bundle
(payments.admin.console.AdminConsole, from the dispatcher's workflow data) and turn its
dataclass or Refusal into a plain-text reply (replies.py). Broadcasts are the exception: they
keep the admin's formatting, as HTML.
"""

from __future__ import annotations

from aiogram import Router

from handlers.admin import (
    broadcast,
    capacity,
    checkin,
    export,
    figures,
    gate,
    grants,
    lookup,
    menu,
    prices,
    refunds,
    subscriptions,
)


def create_router() -> Router:
    """Build the admin router: the console for ADMIN_IDS, a polite refusal for everyone else.

    Include it before the routers with catch-all state handlers (an admin halfway through a
    ticket journey can still use the console) and before the errors router.
    """
    # /checkin is the one command gate staff share with admins.
    gatekeeping = Router(name=f"{__name__}.gatekeeping")
    gatekeeping.message.filter(gate.is_staff)
    gatekeeping.include_router(checkin.create_router())

    console = Router(name=f"{__name__}.console")
    console.message.filter(gate.is_admin)
    console.callback_query.filter(gate.is_admin)
    console.include_routers(
        menu.create_router(),
        figures.create_router(),
        lookup.create_router(),
        refunds.create_router(),
        grants.create_router(),
        prices.create_router(),
        capacity.create_router(),
        broadcast.create_router(),
        export.create_router(),
        subscriptions.create_router(),
    )

    # Nearly every update is not for the console: one cheap look at the command or the button
    # sends it past both routers and their dozen command filters at once.
    router = Router(name=__name__)
    router.message.filter(gate.admin_command)
    router.callback_query.filter(gate.admin_button)
    router.include_routers(gatekeeping, console, gate.create_refusals_router())
    return router
