"""aiogram routers, one module per user journey; `get_routers()` gives their order."""

from __future__ import annotations

from aiogram import Router

from handlers import errors, my, start, subscribe, tickets


def get_routers() -> list[Router]:
    """Build fresh routers, one set per dispatcher, in order: errors and fallbacks last."""
    return [
        start.create_router(),
        subscribe.create_router(),
        tickets.create_router(),
        my.create_router(),
        errors.create_router(),
    ]
