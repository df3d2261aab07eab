"""The logging set up by main.setup_logging never writes a configured secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from main import setup_logging
from payments.log_filters import RedactSecrets
from settings import Settings

BOT_TOKEN = "123456:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
YOOKASSA_KEY = "live_Sx2mXsTm4dtbJy9cCbL5Zg8q"
DB_PASSWORD = "pg-pa55word-for-tests"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Give the root logger back as pytest set it up."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "BOT_TOKEN": BOT_TOKEN,
        "YOOKASSA_SHOP_ID": "123456",
        "YOOKASSA_SECRET_KEY": YOOKASSA_KEY,
        "DATABASE_URL": f"postgresql+asyncpg://shop:{DB_PASSWORD}@db.internal/shop",
        "LOG_LEVEL": "DEBUG",
    }
    return Settings(_env_file=None, **{**values, **overrides})


def _log_a_leak() -> None:
    """Log what a library might: a Bot API URL in an error, a key in an exception's text."""
    url = f"https://api.telegram.org/bot{BOT_TOKEN}/getUpdates"
    logging.getLogger("aiogram.dispatcher").error(
        "Failed to fetch updates - %s: %s", "TelegramNetworkError", f"url={url!r}"
    )
    try:
        raise RuntimeError(f"auth failed for 123456:{YOOKASSA_KEY} on {DB_PASSWORD}")
    except RuntimeError:
        logging.getLogger("payments.yookassa.gateway").exception("yookassa: refused")


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_configured_secret_reaches_the_log(
    capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    settings = _settings(LOG_FORMAT=log_format)
    setup_logging(settings)
    _log_a_leak()
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "Failed to fetch updates" in err and "yookassa: refused" in err
    assert "RuntimeError: auth failed for 123456:***" in err
    assert settings.JWT_SECRET is not None
    for secret in (BOT_TOKEN, YOOKASSA_KEY, DB_PASSWORD, settings.JWT_SECRET.get_secret_value()):
        assert secret not in err
    if log_format == "json":
        parsed: list[dict[str, str]] = [json.loads(line) for line in lines]
        assert "***" in parsed[0]["message"]
        assert "***" in parsed[1]["exception"]


def test_a_value_too_short_to_be_a_secret_does_not_mangle_text() -> None:
    secrets = _settings(SMTP_PASSWORD="abc").secret_values()
    assert "abc" in secrets and BOT_TOKEN in secrets
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "abc abcdef %s", (BOT_TOKEN,), None)
    RedactSecrets(secrets).filter(record)
    assert record.getMessage() == "abc abcdef ***"
