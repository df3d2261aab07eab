"""The sandbox checkout page's words: languages, money, dates and plurals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payments import i18n
from payments.yookassa.sandbox import texts


@pytest.mark.parametrize(
    ("count", "ru", "en"),
    [
        (1, "1 день", "1 day"),
        (3, "3 дня", "3 days"),
        (5, "5 дней", "5 days"),
        (11, "11 дней", "11 days"),
        (12, "12 дней", "12 days"),
        (21, "21 день", "21 days"),
        (22, "22 дня", "22 days"),
        (30, "30 дней", "30 days"),
        (365, "365 дней", "365 days"),
    ],
)
def test_days_have_real_plurals(count: int, ru: str, en: str) -> None:
    assert texts.days(count, "ru") == ru
    assert texts.days(count, "en") == en


def test_money_and_dates_read_naturally() -> None:
    assert texts.money(Decimal("2500.00"), "ru") == "2\u2009500\u00a0₽"
    assert texts.money(Decimal("249.50"), "ru") == "249,50\u00a0₽"
    assert texts.money(Decimal("249.50"), "en") == "249.50\u00a0₽"
    assert texts.day(date(2025, 6, 14), "ru") == "14 июня 2025"
    assert texts.day(date(2025, 6, 14), "en") == "14 June 2025"


def test_language_takes_the_first_known_choice() -> None:
    assert texts.language(None, "en") == "en"
    assert texts.language("ru", "en") == "ru"
    assert texts.language("fr", None, accept_language="fr-FR,en;q=0.8") == "en"
    assert texts.language(None, accept_language="de") == "ru"
    assert texts.language() == "ru"


def test_english_texts_have_no_cyrillic() -> None:
    for key in (k.removeprefix("sbx_") for k in i18n.keys("en") if k.startswith("sbx_")):
        english = texts.text(
            "en",
            key,
            shop="S",
            order="O",
            day="D",
            time="T",
            title="X",
            days="1 day",
            amount="1 ₽",
            payment="P",
            count=2,
            reason="card_expired",
            last4="4444",
        )
        assert not any("а" <= ch.lower() <= "я" or ch.lower() == "ё" for ch in english), key
