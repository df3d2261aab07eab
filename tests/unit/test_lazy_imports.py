"""Rare paths are imported when used, not at start-up: `import main` and a started service on
default settings leave them out of sys.modules (a fresh interpreter each, as an operator runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from settings import Settings

ROOT = Path(__file__).resolve().parents[2]

# What a service on default settings (SQLite, no Redis, sandbox, no SMTP) does not need to start.
LAZY = (
    "alembic",  # migrations: only when the database is behind the newest one
    "redis",  # the FSM storage and webhook ledger: only with REDIS_URL
    "asyncpg",  # PostgreSQL's driver and dialect: only with a PostgreSQL DATABASE_URL
    "sqlalchemy.dialects.postgresql",
    "qrcode",  # ticket QR drawing: on the first ticket
    "PIL",
    "matplotlib",  # admin charts
    "yookassa",  # the SDK and requests: on the gateway's first call
    "requests",
    "jwt",  # Mini App tokens: on the first sign-in
    "cryptography",  # the QR signing key (11 MiB): on the first ticket, check-in or gate call
    # A language's Fluent bundle, and Babel with its locale data (6 MiB for ru and en): on the
    # first message in it; the command list and menu button set at start are plain texts.
    "fluent.runtime",
    "babel",
    # pydantic's v1 package, which FastAPI imports only to refuse v1 models: a stand-in answers
    # (payments.api.pydantic_v1), the real package's modules stay out.
    "pydantic.v1.main",
)
# With a live shop's keys, the embedded sandbox is not loaded either.
LIVE_LAZY = (*LAZY, "payments.yookassa.sandbox")
LIVE_KEYS = {
    "YOOKASSA_SHOP_ID": "123456",
    "YOOKASSA_SECRET_KEY": "live_secret",
    "YOOKASSA_API_URL": "http://127.0.0.1:9/v3",  # never called here
}

_PROBE = """
import asyncio, json, os, sys
import main
loaded = {"import": sorted(m for m in sys.modules if m.split(".")[0] in LAZY_TOPS)}

async def run():
    from settings import load_settings
    from tests.fakes.telegram_api import FakeTelegramAPI

    async with FakeTelegramAPI(validate_html=False) as fake:  # the bot polls, as in production
        os.environ.update(BOT_TOKEN=fake.token, TELEGRAM_API_BASE=fake.base_url)
        service = await main.build(load_settings())
        await service.start()
        try:
            # Started: the commands set in every language, the menu button, polling.
            while not (fake.calls("getUpdates") and fake.calls("setChatMenuButton")):
                await asyncio.sleep(0.05)
            assert len(fake.calls("setMyCommands")) == 3, fake.calls("setMyCommands")
            loaded["started"] = sorted(m for m in sys.modules if m.split(".")[0] in LAZY_TOPS)
        finally:
            await service.stop()

asyncio.run(run())
print(json.dumps(loaded))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'lazy.db'}",
        HTTP_PORT="0",
        LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def _run(args: list[str], tmp_path: Path, **extra: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *args],
        cwd=tmp_path,  # no .env of the checkout
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("keys", "lazy"), [({}, LAZY), (LIVE_KEYS, LIVE_LAZY)], ids=["sandbox", "live-shop"]
)
def test_import_main_and_a_restart_leave_rare_paths_unloaded(
    tmp_path: Path, keys: dict[str, str], lazy: tuple[str, ...]
) -> None:
    _run(["-m", "db.migrate", f"sqlite+aiosqlite:///{tmp_path / 'lazy.db'}"], tmp_path)
    tops = {name.split(".")[0] for name in lazy}
    probe = f"LAZY_TOPS = {sorted(tops)!r}\n" + _PROBE
    loaded = json.loads(_run(["-c", probe], tmp_path, **keys).splitlines()[-1])
    for stage in ("import", "started"):
        unwanted = [m for m in loaded[stage] if any(m == n or m.startswith(n + ".") for n in lazy)]
        assert unwanted == [], f"{stage}: {unwanted}"
