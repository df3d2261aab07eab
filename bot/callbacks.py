"""Callback data factories with short prefixes (Telegram allows 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class MenuCb(CallbackData, prefix="m"):
    """Main menu buttons: tickets, subscribe, my, help, menu."""

    action: str
