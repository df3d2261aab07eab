"""Pure keyboard builders: values in, InlineKeyboardMarkup out."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    AdminCb,
    AgainCb,
    ArToggleCb,
    BroadcastCb,
    LangCb,
    MenuCb,
    MyCancelCb,
    NextCb,
    PayCancelCb,
    PlanCb,
    RefundCb,
    RetryCb,
    StarsCancelCb,
    StarsPlanCb,
    TicketQrCb,
    TNavCb,
    TQtyCb,
    TSlotCb,
)
from bot.texts import languages, t


def _adjusted(buttons: list[InlineKeyboardButton], *sizes: int) -> InlineKeyboardMarkup:
    """Lay buttons out in rows of `sizes` (the last size repeats), as aiogram's
    InlineKeyboardBuilder.adjust does, without the builder: it deep-copies every button it
    holds on each button added, and the journey draws a keyboard on every step."""
    rows: list[list[InlineKeyboardButton]] = []
    widths = iter(sizes)
    width = next(widths)
    row: list[InlineKeyboardButton] = []
    for button in buttons:
        if len(row) >= width:
            rows.append(row)
            width = next(widths, width)
            row = []
        row.append(button)
    if row:
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


@functools.lru_cache(maxsize=64)
def main_menu(lang: str, shop_url: str | None = None) -> InlineKeyboardMarkup:
    """Build the main menu: the Mini App (with `shop_url`), tickets, subscription, my purchases,
    help, language. One per language and address: a markup is frozen once built, and every
    /start of a sale rush shows the same one."""
    buttons = [
        _button(t(lang, key), MenuCb(action=action))
        for key, action in (
            ("btn_tickets", "tickets"),
            ("btn_subscribe", "subscribe"),
            ("btn_my", "my"),
            ("btn_help", "help"),
            ("btn_language", "language"),
        )
    ]
    if shop_url:
        shop = InlineKeyboardButton(text=t(lang, "btn_shop"), web_app=WebAppInfo(url=shop_url))
        return _adjusted([shop, *buttons], 1, 2, 2, 1)
    return _adjusted(buttons, 2, 2, 1)


MENU_DATA = MenuCb(action="menu").pack()


@functools.cache
def _menu_button(lang: str) -> InlineKeyboardButton:
    """The way back to the menu, one per language: nothing changes a button once built, and
    building one costs more than the rest of /my's keyboard."""
    return InlineKeyboardButton(text=t(lang, "btn_menu"), callback_data=MENU_DATA)


def back_to_menu(lang: str) -> InlineKeyboardMarkup:
    """Build a single button that returns to the main menu."""
    return InlineKeyboardMarkup(inline_keyboard=[[_menu_button(lang)]])


def plans(
    lang: str,
    buttons: list[tuple[str, str]],
    stars: Sequence[tuple[str, str]] = (),
    *,
    auto_renew: bool = False,
) -> InlineKeyboardMarkup:
    """Build the auto-renewal toggle, one button per plan (text, plan code), then per digital
    plan paid in Stars, and a way back to the menu."""
    builder = InlineKeyboardBuilder()
    if buttons:
        key = "btn_autorenew_on_toggle" if auto_renew else "btn_autorenew_off_toggle"
        builder.button(text=t(lang, key), callback_data=ArToggleCb(on=int(not auto_renew)))
    for text, code in buttons:
        builder.button(text=text, callback_data=PlanCb(code=code, ar=int(auto_renew)))
    for text, code in stars:
        builder.button(text=text, callback_data=StarsPlanCb(code=code))
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


def stars_pay(lang: str, url: str, stars: int, payment_id: str) -> InlineKeyboardMarkup:
    """Build the Stars pay button (Telegram's invoice link) and the cancel button."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=t(lang, "btn_pay_stars", stars=stars), url=url)],
            [
                InlineKeyboardButton(
                    text=t(lang, "btn_cancel"),
                    callback_data=PayCancelCb(payment_id=payment_id).pack(),
                )
            ],
        ]
    )


def with_stars_cancel(lang: str, markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """Put "turn off auto-renewal (Stars)" above a keyboard's last row (the way back)."""
    rows = list(markup.inline_keyboard)
    button = InlineKeyboardButton(
        text=t(lang, "btn_stars_cancel"), callback_data=StarsCancelCb().pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[*rows[:-1], [button], *rows[-1:]])


def final_keyboard(
    lang: str, *, retry_payment_id: str | None = None, again_payment_id: str | None = None
) -> InlineKeyboardMarkup:
    """Build the next steps after a payment ended: try again or book again, then the usual three.

    "Try again" (after a decline) is a new payment for the same order; "Book again" (after an
    expired hold) restarts the journey with the same choices.
    """
    rows = next_steps_keyboard(lang, retry_payment_id=retry_payment_id).inline_keyboard
    if again_payment_id is not None:
        data = AgainCb(payment_id=again_payment_id, mode="b").pack()
        again = [InlineKeyboardButton(text=t(lang, "btn_book_again"), callback_data=data)]
        rows = [again, *rows]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def slots(lang: str, seats: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    """Build the slot picker: each slot with its free seats (sold-out slots say so)."""
    buttons = [
        _button(
            t(lang, "slot_button" if left > 0 else "slot_sold_out", time=slot, left=left),
            TSlotCb(slot=slot.replace(":", "")),
        )
        for slot, left in seats
    ]
    buttons.append(_button(t(lang, "btn_back"), TNavCb(action="back")))
    buttons.append(_button(t(lang, "btn_cancel"), TNavCb(action="cancel")))
    return _adjusted(buttons, *([2] * ((len(seats) + 1) // 2)), 2)


def quantities(lang: str, rows: list[tuple[str, str, int]]) -> InlineKeyboardMarkup:
    """Build − qty + rows per ticket type (code, title, quantity), then back, next, cancel."""
    buttons = []
    for code, title, qty in rows:
        buttons.append(_button("−", TQtyCb(code=code, delta=-1)))
        buttons.append(_button(f"{title}: {qty}", TQtyCb(code=code, delta=0)))
        buttons.append(_button("+", TQtyCb(code=code, delta=1)))
    buttons.append(_button(t(lang, "btn_back"), TNavCb(action="back")))
    buttons.append(_button(t(lang, "btn_next"), TNavCb(action="next")))
    buttons.append(_button(t(lang, "btn_cancel"), TNavCb(action="cancel")))
    return _adjusted(buttons, *([3] * len(rows)), 2, 1)


def email_step(lang: str) -> InlineKeyboardMarkup:
    """Build the e-mail step's buttons: skip, back, cancel."""
    return _adjusted(
        [
            _button(t(lang, "btn_skip_email"), TNavCb(action="skip_email")),
            _button(t(lang, "btn_back"), TNavCb(action="back")),
            _button(t(lang, "btn_cancel"), TNavCb(action="cancel")),
        ],
        1,
        2,
    )


def summary(lang: str) -> InlineKeyboardMarkup:
    """Build the summary's buttons: to payment, back, cancel."""
    return _adjusted(
        [
            _button(t(lang, "btn_to_payment"), TNavCb(action="pay")),
            _button(t(lang, "btn_back"), TNavCb(action="back")),
            _button(t(lang, "btn_cancel"), TNavCb(action="cancel")),
        ],
        1,
        2,
    )


@dataclass(frozen=True, slots=True)
class UnpaidButtons:
    """The two buttons of an unpaid order in /my: pay (its YooKassa link) and cancel."""

    pay_text: str
    url: str
    cancel_text: str
    payment_id: str


def my_purchases(
    lang: str, tickets: list[tuple[str, int]], unpaid: Sequence[UnpaidButtons] = ()
) -> InlineKeyboardMarkup:
    """Build pay / cancel per unpaid order, one "show QR" button per ticket (text, ticket id),
    then the way back to the menu.

    Built directly rather than through InlineKeyboardBuilder: /my is the screen opened most.
    """
    rows = [
        [
            InlineKeyboardButton(text=order.pay_text, url=order.url),
            InlineKeyboardButton(
                text=order.cancel_text,
                callback_data=MyCancelCb(payment_id=order.payment_id).pack(),
            ),
        ]
        for order in unpaid
    ]
    rows += [
        [InlineKeyboardButton(text=text, callback_data=TicketQrCb(ticket_id=ticket_id).pack())]
        for text, ticket_id in tickets
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [_menu_button(lang)]])


def next_steps_keyboard(lang: str, *, retry_payment_id: str | None = None) -> InlineKeyboardMarkup:
    """Build the next steps under a final message: my tickets, buy more, menu.

    After a decline, "Try again" comes first: a new payment for the same order.
    """
    rows = []
    if retry_payment_id is not None:
        data = RetryCb(payment_id=retry_payment_id).pack()
        rows.append([InlineKeyboardButton(text=t(lang, "btn_retry"), callback_data=data)])
    rows.append(
        [
            InlineKeyboardButton(
                text=t(lang, "btn_my_tickets"), callback_data=NextCb(action="my").pack()
            ),
            InlineKeyboardButton(
                text=t(lang, "btn_buy_more"), callback_data=NextCb(action="tickets").pack()
            ),
        ]
    )
    rows.append(
        [InlineKeyboardButton(text=t(lang, "btn_menu"), callback_data=NextCb(action="menu").pack())]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


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


def refund_confirm(lang: str, draft_id: int, amount: str) -> InlineKeyboardMarkup:
    """Build /refund's confirmation: refund (naming the amount), cancel."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t(lang, "adm_rf_btn_confirm", amount=amount),
        callback_data=RefundCb(action="ok", id=draft_id),
    )
    builder.button(
        text=t(lang, "adm_rf_btn_cancel"), callback_data=RefundCb(action="no", id=draft_id)
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
