"""Every user-facing string of the chat, in the user's language, plus money and date formats.

The strings are Fluent messages in payments/i18n/locales/<lang>/*.ftl (one folder per
language, one file per journey); payments.i18n formats them and re-exported here, the chat
keeps calling `t(lang, key, **kwargs)`, `money()`, `day()`, `short_day()` and `moment()`.

`_TEXTS` is the legacy table of `key: (ru, en)` str.format templates: a module of such tuples
registered there still works (a key not in the locale files is looked up in it) until
`scripts/texts_to_ftl.py` moves it into the locale files.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payments.catalog import Shop
from payments.i18n import (
    DEFAULT,
    EN,
    RU,
    day,
    has,
    languages,
    moment,
    money,
    plain,
    short_day,
)
from payments.i18n import lang_of as lang_of
from payments.i18n import t as _fluent

__all__ = [
    "DEFAULT",
    "EN",
    "RU",
    "day",
    "lang_of",
    "languages",
    "moment",
    "money",
    "plain",
    "plan_description",
    "short_day",
    "t",
    "tickets_description",
]

_TEXTS: dict[str, tuple[str, str]] = {}


def t(lang: str, key: str, **kwargs: object) -> str:
    """Return the text for a key in a language, formatted with keyword arguments."""
    if key in _TEXTS and not has(key):
        ru, en = _TEXTS[key]
        template = en if lang == EN else ru
        return template.format(**kwargs) if kwargs else template
    return _fluent(lang, key, **kwargs)


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


def _marked(lang: str, text: str, is_test: bool) -> str:
    return f"{t(lang, 'pay_test_mark')} {text}" if is_test else text


def plan_description(
    lang: str, shop: str, plan: str, days: int, amount: Decimal, *, is_test: bool
) -> str:
    """The pay message's line for a plan, in the customer's language (YooKassa's stays ru)."""
    text = t(
        lang, "pay_plan_description", shop=shop, plan=plan, days=days, price=money(amount, lang)
    )
    return _marked(lang, text, is_test)


def tickets_description(lang: str, visit_date: date, *, is_test: bool) -> str:
    """The pay message's line for an order of tickets, in the customer's language."""
    return _marked(lang, t(lang, "pay_tickets_description", date=day(lang, visit_date)), is_test)
