"""The admin commands' arguments (handlers/admin/parsing.py) and a broadcast's text
(handlers/admin/broadcast.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from aiogram.types import Chat, Message, MessageEntity

from handlers.admin.broadcast import broadcast_text
from handlers.admin.parsing import parse_admin_amount, parse_clock, parse_count, parse_day


def test_dates_times_and_amounts_are_parsed_strictly() -> None:
    assert parse_day("2026-07-01") == date(2026, 7, 1)
    assert parse_day("01.07.2026") == date(2026, 7, 1)
    assert parse_day("31.02.2026") is None
    assert parse_day("2026/07/01") is None
    assert parse_clock("9:30") == "09:30"
    assert parse_clock("24:00") is None
    assert parse_count("150") == 150
    assert parse_count("-1") is None
    assert parse_admin_amount("500") == Decimal("500.00")
    assert parse_admin_amount("500,5") == Decimal("500.50")
    assert parse_admin_amount("500.555") is None
    assert parse_admin_amount("1e3") is None
    assert parse_admin_amount("249,50") == Decimal("249.50")
    assert parse_admin_amount("249.5") == Decimal("249.50")
    assert parse_admin_amount("0") is None
    assert parse_admin_amount("0,00") is None
    assert parse_admin_amount("-5") is None
    assert parse_admin_amount("249,") is None


def test_broadcast_text_keeps_formatting_and_escapes_the_rest() -> None:
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=1, type="private"),
        text="/broadcast Sale <today> & bold",
        entities=[
            MessageEntity(type="bot_command", offset=0, length=10),
            MessageEntity(type="bold", offset=26, length=4),
        ],
    )
    assert broadcast_text(message) == "Sale &lt;today&gt; &amp; <b>bold</b>"
