"""Callback data factories with short prefixes (Telegram allows 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class MenuCb(CallbackData, prefix="m"):
    """Main menu buttons: tickets, subscribe, my, help, menu."""

    action: str


class PlanCb(CallbackData, prefix="pl"):
    """Choose a subscription plan."""

    code: str


class PayCancelCb(CallbackData, prefix="pc"):
    """Cancel a pending payment from its pay message."""

    payment_id: str
