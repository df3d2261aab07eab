"""Numbers typed by people are ASCII digits only (issue 11).

Python's `\\d`, `int()`, `Decimal()` and `strptime` all take Arabic-Indic (٠-٩) and full-width
(０-９) digits as numbers; an amount or a seat count in those must be refused, not read.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from handlers.admin.parsing import parse_admin_amount, parse_clock, parse_count, parse_day
from payments.api.auth import InitDataError, sign_init_data, verify_init_data
from payments.money import MoneyError, parse_money

SCRIPTS = {
    "arabic-indic": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
    "full-width": str.maketrans("0123456789", "０１２３４５６７８９"),
    "devanagari": str.maketrans("0123456789", "०१२३४५६७८९"),
}
BOT_TOKEN = "123456:ABC-test-token"


@pytest.mark.parametrize("script", SCRIPTS)
def test_admin_command_numbers_need_ascii_digits(script: str) -> None:
    digits = SCRIPTS[script]
    assert parse_admin_amount("500.50") == Decimal("500.50")
    assert parse_admin_amount("500.50".translate(digits)) is None
    assert parse_admin_amount("500,5".translate(digits)) is None
    assert parse_count("120") == 120
    assert parse_count("120".translate(digits)) is None
    assert parse_day("2030-01-31") is not None
    assert parse_day("2030-01-31".translate(digits)) is None
    assert parse_day("31.01.2030".translate(digits)) is None
    assert parse_clock("10:00") == "10:00"
    assert parse_clock("10:00".translate(digits)) is None


@pytest.mark.parametrize("script", SCRIPTS)
def test_money_needs_ascii_digits(script: str) -> None:
    digits = SCRIPTS[script]
    for strict in (True, False):
        assert parse_money("1000.00", strict=strict) == Decimal("1000.00")
        with pytest.raises(MoneyError):
            parse_money("1000.00".translate(digits), strict=strict)


@pytest.mark.parametrize("text", ["1_000.00", " 10.00", "10.00\n", "1e3", "NaN"])
def test_money_is_plain_digits_and_a_point(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_money(text)


def test_init_data_auth_date_needs_ascii_digits() -> None:
    now = datetime.now(UTC)
    fields = {"user": '{"id":12345}', "auth_date": str(int(time.time()))}
    assert verify_init_data(sign_init_data(fields, BOT_TOKEN), BOT_TOKEN, 3600, now).id == 12345
    for digits in SCRIPTS.values():
        forged = {**fields, "auth_date": fields["auth_date"].translate(digits)}
        with pytest.raises(InitDataError, match="auth_date"):
            verify_init_data(sign_init_data(forged, BOT_TOKEN), BOT_TOKEN, 3600, now)
