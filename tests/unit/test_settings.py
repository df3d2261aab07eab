"""Settings: defaults, one-line errors naming the key, production guards, .env.example."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from settings import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_embedded_ones(make_settings: Callable[..., Settings]) -> None:
    settings = Settings(_env_file=None)
    assert settings.DATABASE_URL == "sqlite+aiosqlite:///./data/zooticket.db"
    assert settings.HTTP_HOST == "127.0.0.1"
    assert settings.HTTP_PORT == 8080
    assert settings.sandbox
    assert not settings.bot_enabled
    assert settings.TEST_USER_IDS == ["1272270574"]
    assert settings.PAYMENT_TTL_MINUTES == 15
    assert (settings.PENDING_PAYMENTS_LIMIT, settings.PENDING_PAYMENTS_WINDOW_MINUTES) == (10, 5)
    assert settings.jwt_secret_generated
    assert ipaddress.ip_address("185.71.76.5") in settings.YOOKASSA_TRUSTED_NETWORKS[0]


def test_lists_are_comma_separated(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        ADMIN_IDS="1, 2", TRUSTED_PROXIES="10.0.0.0/8,::1", TEST_USER_IDS="42,test_x"
    )
    assert settings.ADMIN_IDS == [1, 2]
    assert settings.TEST_USER_IDS == ["42", "test_x"]
    assert [str(n) for n in settings.TRUSTED_PROXIES] == ["10.0.0.0/8", "::1/128"]


def test_plain_database_urls_become_async(make_settings: Callable[..., Settings]) -> None:
    assert make_settings(DATABASE_URL="postgresql://u:p@db/shop").DATABASE_URL == (
        "postgresql+asyncpg://u:p@db/shop"
    )
    assert make_settings(DATABASE_URL="sqlite:///x.db").DATABASE_URL == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("HTTP_PORT", "abc"),
        ("WEBHOOK_CONCURRENCY", "0"),
        ("YOOKASSA_CONCURRENCY", "0"),
        ("YOOKASSA_CONCURRENCY", "257"),
        ("WEBHOOK_YIELD_SECONDS", "-1"),
        ("WEBHOOK_YIELD_SECONDS", "61"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "501"),
        ("DATABASE_URL", "nonsense"),
        ("DATABASE_URL", "mysql://u:hunter2@db/x"),
        ("TIMEZONE", "Mars/Olympus"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("BOT_TOKEN", "not a token"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_WEBHOOK_SECRET", "hunter2+base64/="),
        ("TELEGRAM_WEBHOOK_SECRET", "hunter2\n"),
        ("TELEGRAM_WEBHOOK_SECRET", "hunter2" * 40),
        ("TICKET_SIGNING_KEY", "hunter2"),
        ("TICKET_SIGNING_KEY", "hunter2!" * 8),
    ],
)
def test_bad_value_names_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{key: value})
    message = str(caught.value)
    assert message.startswith(f"{key}:")
    assert "\n" not in message
    assert "hunter2" not in message


def test_credentials_come_in_pairs() -> None:
    with pytest.raises(ConfigError, match="YOOKASSA_SECRET_KEY"):
        load_settings(_env_file=None, YOOKASSA_SHOP_ID="123")


PRODUCTION = {
    "APP_ENV": "production",
    "BOT_TOKEN": "123456:ABCDEF",
    "JWT_SECRET": "x" * 40,
    "YOOKASSA_SHOP_ID": "123",
    "YOOKASSA_SECRET_KEY": "live_secret",
}


@pytest.mark.parametrize("missing", ["BOT_TOKEN", "JWT_SECRET", "YOOKASSA_SHOP_ID"])
def test_production_refuses_to_start_without(missing: str) -> None:
    values = {k: v for k, v in PRODUCTION.items() if k != missing}
    if missing == "YOOKASSA_SHOP_ID":
        values.pop("YOOKASSA_SECRET_KEY")
    with pytest.raises(ConfigError, match=f"^{missing}: required when APP_ENV=production"):
        load_settings(_env_file=None, **values)


def test_production_refuses_placeholder_jwt_secret() -> None:
    values = {**PRODUCTION, "JWT_SECRET": "your-super-secret-jwt-key-here"}
    with pytest.raises(ConfigError, match="^JWT_SECRET:"):
        load_settings(_env_file=None, **values)


def test_production_with_everything_starts() -> None:
    settings = load_settings(_env_file=None, **PRODUCTION)
    assert settings.is_production
    assert not settings.sandbox


def test_env_example_lists_every_key_with_a_comment() -> None:
    text = (ROOT / ".env.example").read_text("utf-8")
    lines = text.splitlines()
    keys = {}
    for number, line in enumerate(lines):
        match = re.match(r"^([A-Z_]+)=", line)
        if match:
            keys[match.group(1)] = number
    assert set(keys) == set(Settings.model_fields)
    for key, number in keys.items():
        previous = lines[number - 1]
        assert previous.startswith("#") or re.match(r"^[A-Z_]+=", previous), key


def test_env_example_as_dotenv_loads(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text("utf-8"), "utf-8")
    settings = Settings(_env_file=env)
    assert settings.BOT_TOKEN is None
    assert settings.sandbox


def _run_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(ROOT / "main.py")],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"HTTP_PORT": "abc"}, "HTTP_PORT"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"APP_ENV": "production"}, "BOT_TOKEN"),
        ({"APP_ENV": "production", "BOT_TOKEN": "1:abc"}, "JWT_SECRET"),
        (
            {"APP_ENV": "production", "BOT_TOKEN": "1:abc", "JWT_SECRET": "s" * 40},
            "YOOKASSA_SHOP_ID",
        ),
    ],
)
def test_main_refuses_bad_configuration_in_one_line(
    tmp_path: Path, env: dict[str, str], key: str
) -> None:
    result = _run_main(tmp_path, **env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: {key}:")
