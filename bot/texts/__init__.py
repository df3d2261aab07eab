"""Every user-facing string, in Russian and English, plus money and date formatting.

The strings live in one module per journey (shell, subscription, tickets, refunds, admin);
`t()` looks a key up in all of them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.texts import admin, admin_screens, journeys, orders, refunds, shell, subscription, tickets
from payments.catalog import Shop
from payments.money import human

RU = "ru"
EN = "en"

_TEXTS: dict[str, tuple[str, str]] = {
    **shell.TEXTS,
    **subscription.TEXTS,
    **tickets.TEXTS,
    **refunds.TEXTS,
    **admin.TEXTS,
    **orders.TEXTS,
    **admin_screens.TEXTS,
    **journeys.TEXTS,
}


def lang_of(language_code: str | None) -> str:
    """Return the interface language for a Telegram language code."""
    return EN if language_code and language_code.lower().startswith("en") else RU


def t(lang: str, key: str, **kwargs: object) -> str:
    """Return the text for a key in a language, formatted with keyword arguments."""
    ru, en = _TEXTS[key]
    template = en if lang == EN else ru
    return template.format(**kwargs) if kwargs else template


def with_address(text: str, shop: Shop, lang: str) -> str:
    """Add the shop's address and opening hours, each when the catalog gives it."""
    lines = [text]
    address, hours = shop.address(lang), shop.hours(lang)
    if address or hours:
        lines.append("")
    if address:
        lines.append(t(lang, "shop_address", address=address))
    if hours:
        lines.append(t(lang, "shop_hours", hours=hours))
    return "\n".join(lines)


def money(amount: Decimal) -> str:
    """Format an amount in roubles for people: `2 999 ₽`."""
    return f"{human(amount)} ₽"


_MONTHS_RU = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS_RU = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day(lang: str, value: date) -> str:
    """Format a date for people: `25 ноября 2026` or `25 November 2026`."""
    if lang == EN:
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day} {_MONTHS_RU[value.month - 1]} {value.year}"


def short_day(lang: str, value: date) -> str:
    """Format a date for a button: `пт 27.11` or `Fri 27.11`."""
    names = _WEEKDAYS_EN if lang == EN else _WEEKDAYS_RU
    return f"{names[value.weekday()]} {value:%d.%m}"


def moment(lang: str, value: datetime, tz: ZoneInfo) -> str:
    """Format an instant in the shop time zone: `25 ноября 2026, 14:05`."""
    local = value.astimezone(tz)
    return f"{day(lang, local.date())}, {local:%H:%M}"
