"""SQLite's WAL is copied back by the checkpointer's thread, never by a commit on the loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from db.database import create_database
from db.models_outbox import OutboxMessage

ROW_BYTES = 4000
ROWS_PER_COMMIT = 50
COMMITS = 60  # about 3 000 pages of 4 KiB: three times SQLite's automatic checkpoint
PAGE = 4096


def _size(path: str) -> int:
    return Path(path).stat().st_size


def _grows_to(path: str, size: int, seconds: float) -> int:
    """Wait (in a thread) until the file at `path` holds `size` bytes; return its size."""
    deadline = time.monotonic() + seconds
    while _size(path) < size and time.monotonic() < deadline:
        time.sleep(0.05)
    return _size(path)


async def test_commits_leave_the_wal_to_the_checkpointer(tmp_path: Path) -> None:
    """Writes through the service's engine grow the WAL past SQLite's automatic checkpoint
    (1 000 pages), so no commit paid for copying it; the checkpointer's thread then copies it
    into the database file within a few seconds, with nobody asking."""
    path = tmp_path / "shop.sqlite3"
    database = await create_database(f"sqlite+aiosqlite:///{path}")
    try:
        assert database.checkpointer is not None
        for commit in range(COMMITS):
            async with database.sessionmaker.begin() as session:
                session.add_all(
                    OutboxMessage(
                        kind="broadcast",
                        chat_id=commit * ROWS_PER_COMMIT + i,
                        payload={"text": "x" * ROW_BYTES},
                    )
                    for i in range(ROWS_PER_COMMIT)
                )
        # With automatic checkpoints the log would have been restarted at ~1 000 pages.
        assert _size(f"{path}-wal") > 2000 * PAGE
        written = COMMITS * ROWS_PER_COMMIT * ROW_BYTES
        copied = await asyncio.to_thread(_grows_to, str(path), written, 15.0)
        assert copied >= written  # copied back in the background
    finally:
        await database.close()
