"""Keyboards of auto-renewal: the terms, the notice of a coming charge, pay a declined
renewal, the switches in /my."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ArAgreeCb, ArCb, ArToggleCb, MenuCb, RenewPayCb
from bot.texts import t


def autorenew_terms(lang: str, price: str, *, agree: ArAgreeCb | ArCb) -> InlineKeyboardMarkup:
    """Build "I agree" under the auto-renewal terms (pay with consent, or turn on) and back."""
    key = "btn_autorenew_agree" if isinstance(agree, ArAgreeCb) else "btn_autorenew_agree_on"
    back = ArToggleCb(on=1) if isinstance(agree, ArAgreeCb) else MenuCb(action="my")
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=t(lang, key, price=price), callback_data=agree.pack())],
            [InlineKeyboardButton(text=t(lang, "btn_back"), callback_data=back.pack())],
        ]
    )


def autorenew_notice(lang: str) -> InlineKeyboardMarkup:
    """Build the coming charge's buttons: turn auto-renewal off, change the card."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t(lang, "btn_autorenew_off"), callback_data=ArCb(action="off").pack()
                )
            ],
            [
                InlineKeyboardButton(
                    text=t(lang, "btn_autorenew_card"), callback_data=ArCb(action="card").pack()
                )
            ],
        ]
    )


def renewal_pay(lang: str, renewal_id: int, price: str) -> InlineKeyboardMarkup:
    """Build the one-tap "pay now" under a declined renewal."""
    data = RenewPayCb(renewal_id=renewal_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t(lang, "btn_autorenew_pay", price=price), callback_data=data
                )
            ]
        ]
    )


def with_auto_renew(
    lang: str, markup: InlineKeyboardMarkup, *, on: bool, card: bool, can_turn_on: bool
) -> InlineKeyboardMarkup:
    """Put the auto-renewal switches still possible above a keyboard's last row (the way back)."""
    actions: list[tuple[str, str]] = []
    if on:
        actions.append(("btn_autorenew_off", "off"))
    elif card and can_turn_on:
        actions.append(("btn_autorenew_on", "on"))
    if card:
        actions.append(("btn_autorenew_forget", "forget"))
    if not actions:
        return markup
    buttons = [
        [InlineKeyboardButton(text=t(lang, key), callback_data=ArCb(action=action).pack())]
        for key, action in actions
    ]
    rows = list(markup.inline_keyboard)
    return InlineKeyboardMarkup(inline_keyboard=[*rows[:-1], *buttons, *rows[-1:]])
