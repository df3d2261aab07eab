"""Pure keyboard builders: values in, InlineKeyboardMarkup out."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import MenuCb, PayCancelCb, PlanCb
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


def plans(lang: str, buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Build one button per plan (text, plan code) and a way back to the menu."""
    builder = InlineKeyboardBuilder()
    for text, code in buttons:
        builder.button(text=text, callback_data=PlanCb(code=code))
    builder.button(text=t(lang, "btn_menu"), callback_data=MenuCb(action="menu"))
    builder.adjust(1)
    return builder.as_markup()


def pay(lang: str, url: str, price: str, payment_id: str) -> InlineKeyboardMarkup:
    """Build the pay button (a URL to YooKassa) and the cancel button."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=t(lang, "btn_pay", price=price), url=url)],
            [
                InlineKeyboardButton(
                    text=t(lang, "btn_cancel"),
                    callback_data=PayCancelCb(payment_id=payment_id).pack(),
                )
            ],
        ]
    )
