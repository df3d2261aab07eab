"""`make migrate`: settings.py reads DATABASE_URL (.env too), `python -m db.migrate` migrates."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from db.migrate import alembic_config
from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.sqlite_only  # a SQLite file of its own; nothing to repeat on PostgreSQL


def _python(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    clean.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run(  # noqa: S603 - our own interpreter and modules
        [sys.executable, *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_make_migrate_steps_bring_the_dotenv_database_to_head(tmp_path: Path) -> None:
    # The Makefile's recipe, step by step: the plain spelling in .env is normalised by settings.
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///./data/shop.db\n", "utf-8")
    url = _python(tmp_path, "-m", "settings", "DATABASE_URL")
    assert url.returncode == 0, url.stderr
    assert url.stdout == "sqlite+aiosqlite:///./data/shop.db\n"

    done = _python(tmp_path, "-m", "db.migrate", DATABASE_URL=url.stdout.strip())
    assert done.returncode == 0, done.stderr
    assert done.stdout == "schema at head on SQLite ./data/shop.db\n"
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with sqlite3.connect(tmp_path / "data" / "shop.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


def test_migrate_without_a_database_url_says_so_in_one_line(tmp_path: Path) -> None:
    result = _python(tmp_path, "-m", "db.migrate")
    assert result.returncode == 2
    assert result.stderr.startswith("configuration error: DATABASE_URL: not set")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()


def test_bad_configuration_stops_make_migrate_before_it_migrates(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HTTP_PORT=abc\n", "utf-8")
    result = _python(tmp_path, "-m", "settings", "DATABASE_URL")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("configuration error: HTTP_PORT:")
