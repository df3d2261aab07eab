"""Every user-facing string of the chat, in the user's language, plus money and date formats.

The strings are Fluent messages in payments/i18n/locales/<lang>/*.ftl (one folder per
language, one file per journey); payments.i18n formats them and re-exported here, the chat
keeps calling `t(lang, key, **kwargs)`, `money()`, `day()`, `short_day()` and `moment()`.

`_TEXTS` is the legacy table of `key: (ru, en)` str.format templates: a module of such tuples
registered there still works (a key not in the locale files is looked up in it) until
`scripts/texts_to_ftl.py` moves it into the locale files.
"""

from __future__ import annotations

from payments.i18n import (
    DEFAULT,
    EN,
    RU,
    day,
    has,
    languages,
    moment,
    money,
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
    "short_day",
    "t",
]

_TEXTS: dict[str, tuple[str, str]] = {}


def t(lang: str, key: str, **kwargs: object) -> str:
    """Return the text for a key in a language, formatted with keyword arguments."""
    if key in _TEXTS and not has(key):
        ru, en = _TEXTS[key]
        template = en if lang == EN else ru
        return template.format(**kwargs) if kwargs else template
    return _fluent(lang, key, **kwargs)
