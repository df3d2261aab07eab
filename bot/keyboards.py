"""Pure keyboard builders: values in, InlineKeyboardMarkup out."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import MenuCb
from bot.texts import t


def main_menu(lang: str) -> InlineKeyboardMarkup:
    """Build the main menu: tickets, subscription, my purchases, help."""
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "btn_tickets"), callback_data=MenuCb(action="tickets"))
    builder.button(text=t(lang, "btn_subscribe"), callback_data=MenuCb(action="subscribe"))
    builder.button(text=t(lang, "btn_my"), callback_data=MenuCb(action="my"))
    builder.button(text=t(lang, "btn_help"), callback_data=MenuCb(action="help"))
    builder.adjust(2, 2)
    return builder.as_markup()


def back_to_menu(lang: str) -> InlineKeyboardMarkup:
    """Build a single button that returns to the main menu."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t(lang, "btn_menu"), callback_data=MenuCb(action="menu").pack()
                )
            ]
        ]
    )
