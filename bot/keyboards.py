"""Pure keyboard builders: values in, InlineKeyboardMarkup out."""

from __future__ import annotations

from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    AdminCb,
    BroadcastCb,
    LangCb,
    MenuCb,
    PayCancelCb,
    PlanCb,
    TDateCb,
    TicketQrCb,
    TNavCb,
    TPageCb,
    TQtyCb,
    TSlotCb,
)
from bot.texts import languages, short_day, t


def main_menu(lang: str) -> InlineKeyboardMarkup:
    """Build the main menu: tickets, subscription, my purchases, help, language."""
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "btn_tickets"), callback_data=MenuCb(action="tickets"))
    builder.button(text=t(lang, "btn_subscribe"), callback_data=MenuCb(action="subscribe"))
    builder.button(text=t(lang, "btn_my"), callback_data=MenuCb(action="my"))
    builder.button(text=t(lang, "btn_help"), callback_data=MenuCb(action="help"))
    builder.button(text=t(lang, "btn_language"), callback_data=MenuCb(action="language"))
    builder.adjust(2, 2, 1)
    return builder.as_markup()


MENU_DATA = MenuCb(action="menu").pack()


def back_to_menu(lang: str) -> InlineKeyboardMarkup:
    """Build a single button that returns to the main menu."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t(lang, "btn_menu"), callback_data=MENU_DATA)]]
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


DATES_PER_PAGE = 12


def dates(lang: str, days: list[date], page: int) -> InlineKeyboardMarkup:
    """Build the date picker: three dates a row, a page at a time."""
    builder = InlineKeyboardBuilder()
    chunk = days[page * DATES_PER_PAGE : (page + 1) * DATES_PER_PAGE]
    for value in chunk:
        builder.button(text=short_day(lang, value), callback_data=TDateCb(d=f"{value:%Y%m%d}"))
    sizes = [3] * ((len(chunk) + 2) // 3)
    more = (page + 1) * DATES_PER_PAGE < len(days)
    if page > 0:
        builder.button(text=t(lang, "btn_back"), callback_data=TPageCb(page=page - 1))
    if more:
        builder.button(text=t(lang, "btn_more_dates"), callback_data=TPageCb(page=page + 1))
    nav = int(page > 0) + int(more)
    builder.button(text=t(lang, "btn_cancel"), callback_data=TNavCb(action="cancel"))
    builder.adjust(*sizes, *([nav] if nav else []), 1)
    return builder.as_markup()


def slots(lang: str, seats: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    """Build the slot picker: each slot with its free seats (sold-out slots say so)."""
    builder = InlineKeyboardBuilder()
    for slot, left in seats:
        key = "slot_button" if left > 0 else "slot_sold_out"
        builder.button(
            text=t(lang, key, time=slot, left=left),
            callback_data=TSlotCb(slot=slot.replace(":", "")),
        )
    builder.button(text=t(lang, "btn_back"), callback_data=TNavCb(action="back"))
    builder.button(text=t(lang, "btn_cancel"), callback_data=TNavCb(action="cancel"))
    builder.adjust(*([2] * ((len(seats) + 1) // 2)), 2)
    return builder.as_markup()


def quantities(lang: str, rows: list[tuple[str, str, int]]) -> InlineKeyboardMarkup:
    """Build − qty + rows per ticket type (code, title, quantity), then back, next, cancel."""
    builder = InlineKeyboardBuilder()
    for code, title, qty in rows:
        builder.button(text="−", callback_data=TQtyCb(code=code, delta=-1))
        builder.button(text=f"{title}: {qty}", callback_data=TQtyCb(code=code, delta=0))
        builder.button(text="+", callback_data=TQtyCb(code=code, delta=1))
    builder.button(text=t(lang, "btn_back"), callback_data=TNavCb(action="back"))
    builder.button(text=t(lang, "btn_next"), callback_data=TNavCb(action="next"))
    builder.button(text=t(lang, "btn_cancel"), callback_data=TNavCb(action="cancel"))
    builder.adjust(*([3] * len(rows)), 2, 1)
    return builder.as_markup()


def email_step(lang: str) -> InlineKeyboardMarkup:
    """Build the e-mail step's buttons: skip, back, cancel."""
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "btn_skip_email"), callback_data=TNavCb(action="skip_email"))
    builder.button(text=t(lang, "btn_back"), callback_data=TNavCb(action="back"))
    builder.button(text=t(lang, "btn_cancel"), callback_data=TNavCb(action="cancel"))
    builder.adjust(1, 2)
    return builder.as_markup()


def summary(lang: str) -> InlineKeyboardMarkup:
    """Build the summary's buttons: to payment, back, cancel."""
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "btn_to_payment"), callback_data=TNavCb(action="pay"))
    builder.button(text=t(lang, "btn_back"), callback_data=TNavCb(action="back"))
    builder.button(text=t(lang, "btn_cancel"), callback_data=TNavCb(action="cancel"))
    builder.adjust(1, 2)
    return builder.as_markup()


def my_purchases(lang: str, tickets: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    """Build one "show QR" button per ticket (text, ticket id), then the way back to the menu.

    Built directly rather than through InlineKeyboardBuilder: /my is the screen opened most.
    """
    rows = [
        [InlineKeyboardButton(text=text, callback_data=TicketQrCb(ticket_id=ticket_id).pack())]
        for text, ticket_id in tickets
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, *back_to_menu(lang).inline_keyboard])


def admin_menu(lang: str) -> InlineKeyboardMarkup:
    """Build the admin menu: figures, prices, export, help on the commands with arguments."""
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "adm_btn_stats"), callback_data=AdminCb(action="stats"))
    builder.button(text=t(lang, "adm_btn_prices"), callback_data=AdminCb(action="prices"))
    builder.button(text=t(lang, "adm_btn_export"), callback_data=AdminCb(action="export"))
    builder.button(text=t(lang, "adm_btn_help"), callback_data=AdminCb(action="help"))
    builder.adjust(2, 2)
    return builder.as_markup()


def broadcast_confirm(lang: str, draft_id: int) -> InlineKeyboardMarkup:
    """Build the broadcast confirmation: send, cancel."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t(lang, "adm_bc_btn_send"), callback_data=BroadcastCb(action="send", id=draft_id)
    )
    builder.button(
        text=t(lang, "adm_bc_btn_cancel"), callback_data=BroadcastCb(action="cancel", id=draft_id)
    )
    builder.adjust(2)
    return builder.as_markup()


def broadcast_stop(lang: str, draft_id: int) -> InlineKeyboardMarkup:
    """Build the stop button of a running broadcast."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t(lang, "adm_bc_btn_stop"), callback_data=BroadcastCb(action="stop", id=draft_id)
    )
    return builder.as_markup()


def language_choice(lang: str) -> InlineKeyboardMarkup:
    """Build one button per language, each named in itself (`Русский`, `English`), and Menu."""
    builder = InlineKeyboardBuilder()
    for code in languages():
        mark = "✅ " if code == lang else ""
        builder.button(text=mark + t(code, "language_name"), callback_data=LangCb(code=code))
    builder.button(text=t(lang, "btn_menu"), callback_data=MENU_DATA)
    builder.adjust(*([1] * (len(languages()) + 1)))
    return builder.as_markup()
