"""The journey's keyboards, built without aiogram's builder, keep the builder's layout."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import keyboards, keyboards_calendar
from bot.callbacks import MenuCb, TNavCb, TQtyCb, TSlotCb
from bot.texts import t


def _built(buttons: list[tuple[str, CallbackData | str]], *sizes: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        if isinstance(data, str):
            builder.button(text=text, web_app=WebAppInfo(url=data))
        else:
            builder.button(text=text, callback_data=data)
    builder.adjust(*sizes)
    return builder.as_markup()


def _nav(lang: str, *actions: str) -> list[tuple[str, CallbackData | str]]:
    keys = {"back": "btn_back", "next": "btn_next", "cancel": "btn_cancel"}
    return [(t(lang, keys[a]), TNavCb(action=a)) for a in actions]


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_slot_picker_layout(count: int) -> None:
    seats = [(f"{10 + n:02d}:00", 5 - n) for n in range(count)]
    expected = _built(
        [
            (
                t("ru", "slot_button" if left > 0 else "slot_sold_out", time=slot, left=left),
                TSlotCb(slot=slot.replace(":", "")),
            )
            for slot, left in seats
        ]
        + _nav("ru", "back", "cancel"),
        *([2] * ((count + 1) // 2)),
        2,
    )
    assert keyboards.slots("ru", seats) == expected


@pytest.mark.parametrize("types", [1, 2, 3])
def test_quantity_picker_layout(types: int) -> None:
    rows = [(f"t{n}", f"Type {n}", n) for n in range(types)]
    buttons: list[tuple[str, CallbackData | str]] = []
    for code, title, qty in rows:
        buttons += [
            ("−", TQtyCb(code=code, delta=-1)),
            (f"{title}: {qty}", TQtyCb(code=code, delta=0)),
            ("+", TQtyCb(code=code, delta=1)),
        ]
    expected = _built(buttons + _nav("en", "back", "next", "cancel"), *([3] * types), 2, 1)
    assert keyboards.quantities("en", rows) == expected


def test_email_and_summary_layout() -> None:
    skip = [(t("ru", "btn_skip_email"), TNavCb(action="skip_email"))]
    pay = [(t("ru", "btn_to_payment"), TNavCb(action="pay"))]
    assert keyboards.email_step("ru") == _built(skip + _nav("ru", "back", "cancel"), 1, 2)
    assert keyboards.summary("ru") == _built(pay + _nav("ru", "back", "cancel"), 1, 2)


@pytest.mark.parametrize("shop_url", [None, "https://shop.example/app"])
def test_main_menu_layout(shop_url: str | None) -> None:
    buttons: list[tuple[str, CallbackData | str]] = [
        (t("en", key), MenuCb(action=action))
        for key, action in (
            ("btn_tickets", "tickets"),
            ("btn_subscribe", "subscribe"),
            ("btn_my", "my"),
            ("btn_help", "help"),
            ("btn_language", "language"),
        )
    ]
    if shop_url:
        expected = _built([(t("en", "btn_shop"), shop_url), *buttons], 1, 2, 2, 1)
    else:
        expected = _built(buttons, 2, 2, 1)
    assert keyboards.main_menu("en", shop_url) == expected


def test_a_rushs_customers_share_one_calendar_until_its_days_change() -> None:
    today = date(2026, 12, 4)
    window: dict[str, Any] = {
        "today": today,
        "closed_weekdays": [0],
        "last_day": date(2027, 2, 1),
    }
    open_days = [date(2026, 12, d) for d in range(4, 32) if date(2026, 12, d).weekday() != 0]
    first = keyboards_calendar.dates("ru", month=today, bookable=open_days, **window)
    again = keyboards_calendar.dates("ru", month=today, bookable=set(open_days), **window)
    assert again is first  # built once for the window, whatever collection the days came in
    # A day that is no longer bookable is never offered from the shared calendar.
    fewer = keyboards_calendar.dates("ru", month=today, bookable=open_days[1:], **window)
    offered = {b.text for row in fewer.inline_keyboard for b in row}
    assert fewer is not first
    assert str(open_days[0].day) not in offered
    assert str(open_days[1].day) in offered
    # Each language and month has its own.
    assert keyboards_calendar.dates("en", month=today, bookable=open_days, **window) != first
    assert (
        keyboards_calendar.dates("ru", month=date(2027, 1, 1), bookable=open_days, **window)
        != first
    )
    assert keyboards.main_menu("ru") is keyboards.main_menu("ru")
    assert keyboards.main_menu("ru", "https://zoo.example/app/") != keyboards.main_menu("ru")
