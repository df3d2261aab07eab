"""The locale files: every language says everything, with the same placeholders, in its grammar."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fluent.syntax import ast

import bot.texts
from bot.texts import EN, RU, day, lang_of, moment, money, short_day, t
from payments import i18n
from payments.i18n.convert import to_ftl


def test_the_languages_are_the_locale_folders() -> None:
    assert i18n.languages()[0] == RU
    assert set(i18n.languages()) == {
        p.name for p in i18n.LOCALES.iterdir() if p.is_dir() and any(p.glob("*.ftl"))
    }
    assert {RU, EN} <= set(i18n.languages())


@pytest.mark.parametrize("lang", [lang for lang in i18n.languages() if lang != RU])
def test_every_language_has_every_key_of_russian_and_no_other(lang: str) -> None:
    missing = sorted(i18n.keys(RU) - i18n.keys(lang))
    extra = sorted(i18n.keys(lang) - i18n.keys(RU))
    assert not missing, f"{lang} lacks {missing}"
    assert not extra, f"{lang} has keys Russian lacks: {extra}"


@pytest.mark.parametrize("lang", [lang for lang in i18n.languages() if lang != RU])
def test_every_message_has_the_same_placeholders_in_every_language(lang: str) -> None:
    differ = {
        key: (sorted(i18n.placeholders(RU, key)), sorted(i18n.placeholders(lang, key)))
        for key in i18n.keys(RU) & i18n.keys(lang)
        if i18n.placeholders(RU, key) != i18n.placeholders(lang, key)
    }
    assert not differ


@contextmanager
def _locales(folder: Path, files: dict[str, str]) -> Iterator[None]:
    """Serve the locale files `files` (language: text) from `folder` for the block's length."""
    for lang, text in files.items():
        (folder / lang).mkdir()
        (folder / lang / "shell.ftl").write_text(text, encoding="utf-8")
    original = i18n.LOCALES
    try:
        i18n.LOCALES = folder
        i18n.languages.cache_clear()
        i18n._BUILT.clear()
        yield
    finally:
        i18n.LOCALES = original
        i18n.languages.cache_clear()
        i18n._BUILT.clear()


def test_a_key_missing_from_a_language_fails_the_parity_check(tmp_path: Path) -> None:
    """The parity check reads what is on disk: a third language lacking a key is caught."""
    with _locales(tmp_path, {"ru": "a = А\nb = Б { $n }\n", "xx": "a = A\n"}):
        assert i18n.languages() == ("ru", "xx")
        assert i18n.keys("ru") - i18n.keys("xx") == {"b"}
        assert lang_of("xx-YY") == "xx"
        assert t("xx", "b", n=1) == "Б 1"  # a missing key falls back to Russian


@pytest.mark.parametrize("lang", [*i18n.languages(), "de"])
def test_plain_reads_every_message_without_arguments_as_t_formats_it(lang: str) -> None:
    """The command list and menu button are read with plain(): the same text t() gives."""
    source = lang if lang in i18n.languages() else RU
    plain_keys = [key for key in i18n.keys(source) if not i18n.placeholders(source, key)]
    assert {f"cmd_{c}" for c in ("start", "help", "language")} <= set(plain_keys)
    for key in plain_keys:
        assert i18n.plain(lang, key) == t(lang, key), key


def test_plain_builds_no_bundle_for_plain_text_and_hands_the_rest_to_t(tmp_path: Path) -> None:
    """Plain text is read from its file alone; terms and the fallback to ru still work."""
    files = {"ru": "-zoo = Зоопарк\na = Просто текст\nb = { -zoo }\n", "xx": "a = Plain\n"}
    with _locales(tmp_path, files):
        assert i18n.plain("xx", "a") == "Plain"
        assert i18n.plain("de", "a") == "Просто текст"  # an unknown language reads ru
        assert not i18n._BUILT  # no bundle, no Babel data
        assert i18n.plain("xx", "b") == "Зоопарк"  # missing in xx, a term in ru: through t()
        assert i18n._BUILT
        with pytest.raises(i18n.MissingText):
            i18n.plain("xx", "no_such_key")


def test_lang_of_picks_a_supported_language_and_falls_back_to_russian() -> None:
    assert lang_of("en") == EN
    assert lang_of("en-GB") == EN
    assert lang_of("EN_us") == EN
    assert lang_of("ru") == RU
    assert lang_of("de") == RU
    assert lang_of(None) == RU
    assert lang_of("") == RU


@pytest.mark.parametrize(
    ("count", "ru", "en"),
    [
        (1, "1 билет на", "1 ticket for"),
        (2, "2 билета на", "2 tickets for"),
        (3, "3 билета на", "3 tickets for"),
        (5, "5 билетов на", "5 tickets for"),
        (11, "11 билетов на", "11 tickets for"),
        (21, "21 билет на", "21 tickets for"),
        (1000, "1000 билетов на", "1000 tickets for"),
    ],
)
def test_counts_take_the_plural_of_their_language(count: int, ru: str, en: str) -> None:
    when = {"order_id": "ZT-1", "count": count, "date": "d", "time": "10:00"}
    assert ru in t(RU, "tickets_paid", **when)
    assert en in t(EN, "tickets_paid", **when)


def test_minutes_and_days_are_spelled_out_with_their_plural() -> None:
    assert t(RU, "too_many_pending", minutes=1).endswith("через 1 минуту.")
    assert t(RU, "too_many_pending", minutes=3).endswith("через 3 минуты.")
    assert t(RU, "too_many_pending", minutes=15).endswith("через 15 минут.")
    assert t(EN, "too_many_pending", minutes=1).endswith("in 1 minute.")
    assert "добавлен 1 день" in t(RU, "subscription_granted", days=1, date="d")
    assert "добавлено 30 дней" in t(RU, "subscription_granted", days=30, date="d")
    assert "given 1 day of" in t(EN, "subscription_granted", days=1, date="d")


def test_money_follows_the_locale_grouping() -> None:
    assert money(Decimal("2500.00")) == "2\u2009500 ₽"
    assert money(Decimal("2500.00"), EN) == "2,500 ₽"
    assert money(Decimal("249.50")) == "249,50 ₽"
    assert money(Decimal("249.50"), EN) == "249.50 ₽"
    assert money(Decimal("1234567.89"), RU) == "1\u2009234\u2009567,89 ₽"


def test_dates_are_spelled_in_the_language() -> None:
    assert day(RU, date(2026, 12, 3)) == "3 декабря 2026"
    assert day(EN, date(2026, 12, 3)) == "3 December 2026"
    assert short_day(RU, date(2026, 11, 27)) == "пт 27.11"
    assert short_day(EN, date(2026, 11, 27)) == "Fri 27.11"
    at = datetime(2026, 11, 25, 11, 5, tzinfo=UTC)
    assert moment(RU, at, ZoneInfo("Europe/Moscow")) == "25 ноября 2026, 14:05"


def test_the_english_texts_have_no_cyrillic() -> None:
    for key in i18n.keys(EN):
        sample = dict.fromkeys(i18n.placeholders(EN, key), 2)
        assert not re.search("[а-яё]", t(EN, key, **sample), re.IGNORECASE), key


def test_a_missing_argument_is_an_error_not_a_silent_placeholder() -> None:
    with pytest.raises(ValueError, match="tickets_paid"):
        t(RU, "tickets_paid", order_id="ZT-1")
    with pytest.raises(i18n.MissingText):
        t(RU, "no_such_key")


def test_legacy_tuple_texts_still_work_until_they_are_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(bot.texts._TEXTS, "legacy_hello", ("Привет, {name}!", "Hi, {name}!"))
    assert t(RU, "legacy_hello", name="Оля") == "Привет, Оля!"
    assert t(EN, "legacy_hello", name="Olga") == "Hi, Olga!"
    assert t(EN, "btn_menu") == "⬅️ Menu"  # a Fluent key still wins


LEGACY = {
    "plain": ("Один", "One"),
    "args": ("{a} и {b}", "{a} and {b}"),
    "lines": ("Раз\n\nДва: {n}\n* три\n[четыре]\n.пять", "One\n\nTwo: {n}\n* three\n[four]\n.five"),
    "braces": ("{{буквально}} {x} ", "{{literally}} {x} "),
    "quotes": ('"кавычки" \\ {x}', '"quotes" \\ {x}'),
    "spaced": ("  отступ", "  indent"),
}


def test_the_converter_keeps_every_legacy_text_as_it_read(tmp_path: Path) -> None:
    for lang, text in to_ftl(LEGACY).items():
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "legacy.ftl").write_text(text, encoding="utf-8")
    original = i18n.LOCALES
    try:
        i18n.LOCALES = tmp_path
        i18n.languages.cache_clear()
        i18n._BUILT.clear()
        for key, pair in LEGACY.items():
            for lang, template in zip((RU, EN), pair, strict=True):
                sample = {f: f"<{f}>" for f in re.findall(r"(?<!\{)\{(\w+)\}", template)}
                assert i18n.t(lang, key, **sample) == template.format(**sample), (key, lang)
    finally:
        i18n.LOCALES = original
        i18n.languages.cache_clear()
        i18n._BUILT.clear()


async def test_a_languages_first_bundle_is_built_while_the_loop_goes_on(tmp_path: Path) -> None:
    """prepare() builds a bundle in a worker thread: the loop keeps turning meanwhile, and the
    texts are ready when it returns (built on the loop, the ticker could not move at all)."""
    many = "".join(
        f"m{n} = {{ $count ->\n    [one] {n} билет\n   *[other] {n} билетов\n}}\n"
        for n in range(3000)
    )
    with _locales(tmp_path, {"ru": many, "xx": "a = A\n"}):
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        running = asyncio.create_task(ticker())
        assert not i18n.ready("ru")
        await i18n.prepare("ru")
        done.set()
        await running
        assert i18n.ready("ru")
        assert ticks > 1
        assert t("ru", "m5", count=3) == "5 билетов"
        assert i18n.ready("de") and not i18n.ready("xx")  # an unknown language speaks ru


def _parsed(path: Path) -> dict[str, str]:
    """Parse a locale file as the bundle gets it, as in a fresh process; each message's text."""
    i18n._resource.cache_clear()
    resource = i18n._resource(path)
    return {
        entry.id.name: "".join(getattr(element, "value", "") for element in entry.value.elements)
        for entry in resource.body
        if isinstance(entry, ast.Message) and entry.value is not None
    }


def test_an_edited_locale_file_is_read_as_edited_not_as_kept(tmp_path: Path) -> None:
    """Parsed files are kept beside them (__pycache__/); an edit must never show the old text."""
    path = tmp_path / "shop.ftl"
    path.write_text("greeting = Здравствуйте\n", encoding="utf-8")
    assert _parsed(path) == {"greeting": "Здравствуйте"}
    assert len(list((tmp_path / "__pycache__").glob("shop.ftl.*.pickle"))) == 1
    path.write_text("greeting = Добрый день\n", encoding="utf-8")
    assert _parsed(path) == {"greeting": "Добрый день"}
    # The copy of the earlier contents went; one file is kept per locale file.
    assert len(list((tmp_path / "__pycache__").glob("shop.ftl.*.pickle"))) == 1


def test_a_damaged_kept_copy_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "shop.ftl"
    path.write_text("greeting = Здравствуйте\n", encoding="utf-8")
    _parsed(path)
    for kept in (tmp_path / "__pycache__").glob("*.pickle"):
        kept.write_bytes(b"not a pickle")
    assert _parsed(path) == {"greeting": "Здравствуйте"}


def test_locale_files_are_read_where_nothing_can_be_kept(tmp_path: Path) -> None:
    """A read-only install: no __pycache__ can be written, the texts still come."""
    path = tmp_path / "shop.ftl"
    path.write_text("greeting = Здравствуйте\n", encoding="utf-8")
    (tmp_path / "__pycache__").write_text("a file where the folder would go")
    assert _parsed(path) == {"greeting": "Здравствуйте"}
    assert _parsed(path) == {"greeting": "Здравствуйте"}


def test_a_broken_locale_file_is_an_error_even_after_a_good_one_was_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shop.ftl"
    path.write_text("greeting = Здравствуйте\n", encoding="utf-8")
    _parsed(path)
    path.write_text("greeting = { $name\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot parse"):
        _parsed(path)
