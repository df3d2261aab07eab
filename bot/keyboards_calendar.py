"""The ticket journey's date picker: "Today" / "Tomorrow" and a month calendar of the window."""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import date, timedelta

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import TCalCb, TDateCb, TNavCb
from bot.texts import short_day, t


def _month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_before(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def _month_cb(month: date) -> TCalCb:
    return TCalCb(m=f"{month:%Y%m}")


def _calendar_cell(
    value: date, month: date, today: date, bookable: Collection[date], closed: Collection[int]
) -> InlineKeyboardButton:
    if value.month != month.month or value < today:
        return InlineKeyboardButton(text="·", callback_data=TCalCb(m="-").pack())
    if value in bookable:
        return InlineKeyboardButton(
            text=str(value.day), callback_data=TDateCb(d=f"{value:%Y%m%d}").pack()
        )
    if value.weekday() in closed:
        return InlineKeyboardButton(text=f"✖{value.day}", callback_data=TCalCb(m="closed").pack())
    return InlineKeyboardButton(text="·", callback_data=TCalCb(m="-").pack())


def dates(  # noqa: PLR0913 - the calendar needs the whole window
    lang: str,
    *,
    today: date,
    month: date,
    bookable: Collection[date],
    closed_weekdays: Collection[int],
    last_day: date,
) -> InlineKeyboardMarkup:
    """Build the date picker: "Today" and "Tomorrow" first, then a month calendar.

    Bookable days carry their number; closed weekdays to come are marked ✖; past days, days
    beyond the window and other months' days show "·" and pick nothing. ◀️ / ▶️ move between
    the months of the booking window.

    Built once per language and window: in a sale rush every customer's /tickets shows the
    same calendar, and its forty-odd buttons cost more to build than the rest of the step's
    handler. A markup is frozen once built, so one is shared safely.
    """
    return _dates(
        lang,
        today=today,
        month=month.replace(day=1),
        bookable=frozenset(bookable),
        closed_weekdays=frozenset(closed_weekdays),
        last_day=last_day,
    )


@functools.lru_cache(maxsize=64)
def _dates(  # noqa: PLR0913 - the calendar needs the whole window
    lang: str,
    *,
    today: date,
    month: date,
    bookable: frozenset[date],
    closed_weekdays: frozenset[int],
    last_day: date,
) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    quick = []
    for key, value in (("btn_today", today), ("btn_tomorrow", today + timedelta(days=1))):
        if value in bookable:
            label = t(lang, key, date=short_day(lang, value))
            quick.append(
                InlineKeyboardButton(text=label, callback_data=TDateCb(d=f"{value:%Y%m%d}").pack())
            )
    if quick:
        rows.append(quick)
    names = t(lang, "cal_months").split()
    heading = [
        InlineKeyboardButton(
            text=t(lang, "cal_month", month=names[month.month - 1], year=month.year),
            callback_data=TCalCb(m="=").pack(),
        )
    ]
    if month > today.replace(day=1):
        previous = _month_before(month)
        heading.insert(0, InlineKeyboardButton(text="◀️", callback_data=_month_cb(previous).pack()))
    following = _month_after(month)
    if following <= last_day:
        heading.append(InlineKeyboardButton(text="▶️", callback_data=_month_cb(following).pack()))
    rows.append(heading)
    rows.append(
        [
            InlineKeyboardButton(text=name, callback_data=TCalCb(m="=").pack())
            for name in t(lang, "cal_weekdays").split()
        ]
    )
    cell = month - timedelta(days=month.weekday())
    while cell < following:
        week = [cell + timedelta(days=offset) for offset in range(7)]
        rows.append([_calendar_cell(d, month, today, bookable, closed_weekdays) for d in week])
        cell += timedelta(days=7)
    rows.append(
        [
            InlineKeyboardButton(
                text=t(lang, "btn_cancel"), callback_data=TNavCb(action="cancel").pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)
