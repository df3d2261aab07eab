"""Pick a visit date in the ticket journey as a customer does: "Today"/"Tomorrow", or the day's
number in the month calendar, paging with ▶️ to its month."""

from __future__ import annotations

from datetime import date

from bot.texts import short_day, t
from tests.fakes.telegram_api import ChatMessage, FakeUser

MAX_MONTHS = 14


def calendar_message(user: FakeUser, lang: str = "ru") -> ChatMessage:
    """Return the newest bot message that shows the calendar."""
    first_weekday = t(lang, "cal_weekdays").split()[0]
    return next(m for m in reversed(user.messages) if m.find_button(first_weekday))


def month_heading(visit: date, lang: str = "ru") -> str:
    """Return the calendar's heading of a date's month, e.g. `Декабрь 2026`."""
    names = t(lang, "cal_months").split()
    return t(lang, "cal_month", month=names[visit.month - 1], year=visit.year)


async def pick_day(user: FakeUser, visit: date, lang: str = "ru") -> None:
    """Press the button of `visit` (the caller waits for the reply)."""
    for _ in range(MAX_MONTHS):
        message = calendar_message(user, lang)
        quick = short_day(lang, visit)
        if message.find_button(quick, contains=True):
            await user.press(quick, message, contains=True)
            return
        if message.find_button(month_heading(visit, lang)):
            await user.press(str(visit.day), message)
            return
        await user.press("▶️", message)
        await user.wait_reply()
    raise AssertionError(f"{visit} is not in the calendar")
