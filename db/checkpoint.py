"""SQLite's WAL checkpoints in a worker thread, not in a commit on the event loop.

SQLite copies the write-ahead log back into the database file when a commit finds the log
past `wal_autocheckpoint` pages (1 000 by default). That commit runs on the event loop (see
db/sqlite_loop.py) and the copy, with its fsync, took 77–196 ms under `make bench`: every bot
update and webhook waited for it. The service's writer connection therefore turns automatic
checkpoints off, and this task runs a PASSIVE checkpoint every second on a connection of its
own in a worker thread (pysqlite lets go of the GIL while SQLite works). PASSIVE never waits
for readers or writers: whatever it cannot copy now, the next round copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 1.0


class WalCheckpointer:
    """Checkpoint one SQLite file's WAL every `every` seconds off the loop, until closed."""

    def __init__(self, path: str, *, every: float = CHECKPOINT_SECONDS) -> None:
        """Remember the file; `start` begins the rounds."""
        self._path = path
        self._every = every
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._connection: sqlite3.Connection | None = None

    def start(self) -> None:
        """Run the rounds in the background on the running loop."""
        self._task = asyncio.create_task(self._run(), name="sqlite-wal-checkpoint")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._every)
            if self._stop.is_set():
                return
            try:
                await asyncio.to_thread(self.checkpoint)
            except sqlite3.Error as exc:
                log.warning("sqlite: WAL checkpoint failed: %s", exc)

    def checkpoint(self) -> None:
        """Copy what the WAL holds back into the database file, without waiting for anyone."""
        if self._connection is None:
            self._connection = sqlite3.connect(
                self._path, timeout=0, isolation_level=None, check_same_thread=False
            )
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def close(self) -> None:
        """Stop the rounds, copy the rest of the log once more, and close the connection.

        A round in its thread is waited for, not cancelled: cancelling the task would leave the
        thread using the connection this closes.
        """
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        with contextlib.suppress(sqlite3.Error):
            await asyncio.to_thread(self.checkpoint)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
