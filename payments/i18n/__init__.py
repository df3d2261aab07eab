"""Every customer-visible word, in each customer's language: Fluent messages, Babel formats.

The messages live in `locales/<lang>/*.ftl` beside this module (one folder per language, one
file per journey). The set of languages is the set of folders: a translator adds a third
language by copying `en/` to a new folder and translating it, without touching code.
`t(lang, key, **args)` formats a message; numbers passed as ints drive Fluent's plural
selectors (`1 билет`, `3 билета`, `5 билетов`). Money and dates go through Babel with the
language's locale.

payments/ sends customer texts itself (the ticket e-mail), so the core lives here, where both
payments/ and bot/ may import it; bot.texts re-exports it for the chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import pickle
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from fluent.syntax import FluentParser, ast
from fluent.syntax import parser as fluent_parser

from payments.money import quantize

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from babel import Locale
    from fluent.runtime import FluentBundle

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "ru"
RU = "ru"
EN = "en"
# A message or term definition starts a line (continuations and attributes are indented).
_DEFINITION = re.compile(r"^(-?[A-Za-z][A-Za-z0-9_-]*)[ \t]*=", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class _Language:
    """One language's messages: its Fluent bundle and each message's placeholders."""

    bundle: FluentBundle
    placeholders: dict[str, frozenset[str]]


class MissingText(LookupError):
    """No message with this key in the language, nor in the default one."""


# Each language's bundle, built on its first message (`_language`) or by `prepare`.
_BUILT: dict[str, _Language] = {}
# One build at a time. A language's first messages come together (a sale's first customers,
# the notifications after a restart), and each asked for the build in a worker thread: the
# webhook bench's first round ran five at once, ~70 ms of GIL-bound parsing each, and every
# notification in flight waited ~200 ms for the loop. Now the others wait on this lock,
# without the GIL, and find the bundle built.
_BUILDING = threading.RLock()


@functools.cache
def languages() -> tuple[str, ...]:
    """Return the languages there are locale files for, the default first."""
    found = sorted(p.name for p in LOCALES.iterdir() if p.is_dir() and any(p.glob("*.ftl")))
    return (DEFAULT, *(lang for lang in found if lang != DEFAULT))


def _language(lang: str) -> _Language:
    """Return a language's bundle, built on its first message, not at start-up."""
    built = _BUILT.get(lang)
    if built is None:
        with _BUILDING:
            built = _BUILT.get(lang)
            if built is None:
                began = time.perf_counter()
                built = _BUILT[lang] = _build(lang)
                log.info("texts of %s built in %.0f ms", lang, (time.perf_counter() - began) * 1000)
    return built


def _build(lang: str) -> _Language:
    """Build a language's bundle.

    Fluent's runtime brings Babel, and the bundle loads Babel's data for the locale (5 MiB for
    ru, 1 MiB for en); a service that has served nobody in a language holds neither.
    """
    from fluent.runtime import FluentBundle  # with Babel: on first use

    bundle = FluentBundle([lang.replace("_", "-")], use_isolating=False)
    placeholders: dict[str, frozenset[str]] = {}
    for path in sorted((LOCALES / lang).glob("*.ftl")):
        resource = _resource(path)
        for entry in resource.body:
            if isinstance(entry, ast.Message):
                if entry.id.name in placeholders:
                    raise ValueError(f"{path}: {entry.id.name} is defined twice in {lang}")
                placeholders[entry.id.name] = frozenset(_variables(entry))
        bundle.add_resource(resource)
    return _Language(bundle, placeholders)


def _spoken(lang: str) -> str:
    """Return the language, or the default one when there are no locale files for it."""
    return lang if lang in languages() else DEFAULT


def ready(lang: str) -> bool:
    """Return whether a language's messages can be formatted without building its bundle."""
    return _spoken(lang) in _BUILT


async def prepare(lang: str) -> None:
    """Build a language's bundle (and its Babel locale) in a worker thread, if not built yet.

    The first message in a language otherwise builds it where t() is called, on the event
    loop: parsing every locale file and loading Babel's data held the loop for 50-100 ms
    (the report bench caught it inside an admin's first command). First messages arriving
    together build it once (`_BUILDING`).
    """
    if not ready(lang):
        await asyncio.to_thread(_warm, _spoken(lang))


def _warm(lang: str) -> None:
    with _BUILDING:
        _language(lang)
        _locale(lang)


@functools.cache
def _resource(path: Path) -> ast.Resource:
    """Parse one locale file (without source positions: nothing reads them); junk is an error.

    Fluent's parser is pure Python: the 17 Russian files took 35-75 ms, a third of a language's
    first build, all of it holding the GIL while the first messages after a restart wait. The
    parsed file is kept beside it, as Python keeps bytecode (`__pycache__/`), under a name made
    from the file's bytes and the parser's own file: reading it back takes a tenth of the time.
    An edited file or another Fluent version is parsed again; a cache that cannot be read or
    written (a read-only install) is parsed every time.
    """
    source = path.read_bytes()
    cached = _cached(path, source)
    try:
        with cached.open("rb") as file:
            kept = pickle.load(file)  # noqa: S301 - written by this function, beside our code
        if isinstance(kept, ast.Resource):
            return kept
    except Exception:  # noqa: BLE001, S110 - any unreadable cache: parse the file instead
        pass
    resource = FluentParser(with_spans=False).parse(source.decode("utf-8"))
    junk = [entry for entry in resource.body if isinstance(entry, ast.Junk)]
    if junk:
        raise ValueError(f"{path}: cannot parse {(junk[0].content or '')[:60]!r}")
    _keep(path, cached, resource)
    return resource


def _cached(path: Path, source: bytes) -> Path:
    """Where the parsed `path` is kept: named by its bytes and the parser's version."""
    digest = hashlib.sha256(source)
    digest.update(_parser_stamp())
    return path.parent / "__pycache__" / f"{path.name}.{digest.hexdigest()[:20]}.pickle"


@functools.cache
def _parser_stamp() -> bytes:
    """The installed Fluent parser, by its file's size and time (a new version changes both)."""
    stat = Path(fluent_parser.__file__ or "").stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}".encode()


def _keep(path: Path, cached: Path, resource: ast.Resource) -> None:
    """Write the parsed `path` atomically, dropping what was kept for its earlier contents."""
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    try:
        cached.parent.mkdir(exist_ok=True)
        for old in cached.parent.glob(f"{path.name}.*.pickle"):
            old.unlink(missing_ok=True)
        partial.write_bytes(pickle.dumps(resource, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(cached)
    except OSError as exc:
        log.debug("texts: cannot keep the parsed %s: %s", cached.name, exc)
        with contextlib.suppress(OSError):  # a half-written copy (a full disk, say)
            partial.unlink(missing_ok=True)


@functools.cache
def _files(folder: Path) -> dict[str, Path]:
    """Map each key defined in a language's folder to its file, reading lines, not parsing."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.ftl")):
        for key in _DEFINITION.findall(path.read_text(encoding="utf-8")):
            found.setdefault(key, path)
    return found


def _variables(node: object) -> set[str]:
    """Return the names of the `$variables` a Fluent AST node refers to."""
    found: set[str] = set()
    if isinstance(node, ast.VariableReference):
        found.add(node.id.name)
    if isinstance(node, ast.BaseNode):
        for value in vars(node).values():
            items = value if isinstance(value, list) else [value]
            for item in items:
                found |= _variables(item)
    return found


def keys(lang: str) -> frozenset[str]:
    """Return the message keys of a language."""
    return frozenset(_language(lang).placeholders)


def placeholders(lang: str, key: str) -> frozenset[str]:
    """Return the `$variables` a message of a language uses."""
    return _language(lang).placeholders[key]


def has(key: str) -> bool:
    """Return whether a key is a Fluent message (in the default language)."""
    return key in _language(DEFAULT).placeholders


def lang_of(language_code: str | None) -> str:
    """Return the supported language for a Telegram language code (`en-US` → `en`), else ru."""
    if not language_code:
        return DEFAULT
    code = language_code.strip().lower().replace("-", "_")
    supported = {lang.lower(): lang for lang in languages()}
    return supported.get(code) or supported.get(code.split("_")[0]) or DEFAULT


def _argument(value: object) -> object:
    """Turn an argument into what Fluent formats as str.format() would have written it."""
    if isinstance(value, int) and not isinstance(value, bool):
        from fluent.runtime.types import fluent_number  # loaded by _language() already

        return fluent_number(value, useGrouping=False)  # plural selection, no `1 000` ids
    if isinstance(value, str):
        return value
    return str(value)


def t(lang: str, key: str, **kwargs: object) -> str:
    """Return the message `key` in `lang` (falling back to ru), formatted with `kwargs`."""
    language = _language(_spoken(lang))
    bundle = language.bundle
    if not bundle.has_message(key):
        bundle = _language(DEFAULT).bundle
        if not bundle.has_message(key):
            raise MissingText(key)
    message = bundle.get_message(key)
    assert message.value is not None  # noqa: S101 - _language() parsed it with a value
    args = {name: _argument(value) for name, value in kwargs.items()}
    text, errors = bundle.format_pattern(message.value, args)
    if errors:
        raise ValueError(f"text {key!r} in {lang}: {errors[0]}")
    return str(text)


def plain(lang: str, key: str) -> str:
    """Return `t(lang, key)` for a message without arguments, building no bundle when it can.

    A message that is plain text (no placeholders, terms or selectors) is read from its file
    alone: the command list and the menu button, set at start-up, load neither Fluent's
    runtime nor Babel's locale data. Any other message goes through t().
    """
    lang = _spoken(lang)
    path = _files(LOCALES / lang).get(key) or _files(LOCALES / DEFAULT).get(key)
    if path is not None:
        for entry in _resource(path).body:
            if isinstance(entry, ast.Message) and entry.id.name == key:
                elements = entry.value.elements if entry.value is not None else []
                if elements and all(isinstance(e, ast.TextElement) for e in elements):
                    return "".join(e.value for e in elements if isinstance(e, ast.TextElement))
                break
    return t(lang, key)


@functools.cache
def _locale(lang: str) -> Locale:
    from babel import Locale, UnknownLocaleError  # on first use, not at start-up

    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)


def money(amount: Decimal, lang: str = DEFAULT) -> str:
    """Format roubles for people in the language's way: `2 500 ₽`, `2,500 ₽`, `249,50 ₽`.

    Kopecks show only when there are some. Where the locale groups digits with a space, the
    space is a thin one, as the chat always showed it.
    """
    q = quantize(amount)
    pattern = "#,##0" if q == q.to_integral_value() else "#,##0.00"
    from babel.numbers import format_decimal  # on first use, not at start-up

    number = format_decimal(q, format=pattern, locale=_locale(lang))
    return f"{number.replace(chr(0xA0), chr(0x2009)).replace(chr(0x202F), chr(0x2009))} ₽"


def day(lang: str, value: date) -> str:
    """Format a date for people: `25 ноября 2026` or `25 November 2026`."""
    from babel.dates import format_date  # on first use, not at start-up

    return format_date(value, "d MMMM y", locale=_locale(lang))


def short_day(lang: str, value: date) -> str:
    """Format a date for a button: `пт 27.11` or `Fri 27.11`."""
    from babel.dates import format_date  # on first use, not at start-up

    return format_date(value, "EEE dd.MM", locale=_locale(lang))


def moment(lang: str, value: datetime, tz: ZoneInfo) -> str:
    """Format an instant in the shop time zone: `25 ноября 2026, 14:05`."""
    local = value.astimezone(tz)
    return f"{day(lang, local.date())}, {local:%H:%M}"
