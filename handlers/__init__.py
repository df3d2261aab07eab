"""aiogram routers, one module per user journey; `get_routers()` gives their order."""

from __future__ import annotations

from aiogram import Router

from handlers import errors, start


def get_routers() -> list[Router]:
    """Return the routers in the order they must be included: errors and fallbacks last."""
    return [start.router, errors.router]
