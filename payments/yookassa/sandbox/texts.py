"""The sandbox checkout page's words and how the page picks a language.

The words are Fluent messages `sbx_*` in payments/i18n/locales/<lang>/sandbox.ftl, with the
rest of the product's texts; dates come from Babel; money keeps the page's no-break spaces.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payments import i18n
from payments.money import human

DEFAULT_LANGUAGE = "ru"


def text(lang: str, key: str, **values: object) -> str:
    """Return the page's text for `key` in `lang`, filled in (locales/<lang>/sandbox.ftl)."""
    return i18n.t(lang, f"sbx_{key}", **values)


def language(*candidates: str | None, accept_language: str | None = None) -> str:
    """Return the first supported language among `candidates`, then the browser's, else ru."""
    for candidate in candidates:
        if candidate:
            code = candidate.strip().lower()[:2]
            if code in i18n.languages():
                return code
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in i18n.languages():
            return code
    return DEFAULT_LANGUAGE


def money(amount: Decimal, lang: str) -> str:
    """Format roubles for people: `2 500 ₽`, `249,50 ₽` (no-break space before the sign)."""
    figure = human(amount)
    if lang != "en":
        figure = figure.replace(".", ",")
    return f"{figure}\u00a0₽"


def day(value: date, lang: str) -> str:
    """Format a date: `14 июня 2025` / `14 June 2025` (Babel, through payments.i18n)."""
    return i18n.day(lang, value)


def days(count: int, lang: str) -> str:
    """Format a number of days with its plural: `1 день`, `3 дня`, `30 дней` / `30 days`."""
    return i18n.t(lang, "sbx_days", count=count)
