"""The running sending lanes share one Telegram budget: `rate` divided by how many there are.

Telegram counts a bot's messages whichever instance sends them. On PostgreSQL (where several
instances run, README "Several instances") each lane says it is running every HEARTBEAT_SECONDS
with one statement that also counts the lanes seen within GONE_AFTER, and sets its budget to
its share; a lane that stops takes its row away, and one that died is left out once its last
word is GONE_AFTER old (until then the others send a little slower, never faster). A lane that
finds others running waits JOIN_WAIT before its first send, so that they have lowered their
shares by then: the lanes' sum never goes over `rate`. SQLite serves one instance: its lane
keeps the whole rate and writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Interval, Table, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models_outbox import OutboxSender

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
# A lane not heard from for this long is taken to have stopped (three missed beats and a half).
GONE_AFTER = 3.5
# How long a lane that finds others running waits before sending: their next beats come first,
# with room for a beat that a busy loop or database held up.
JOIN_WAIT = 2.5 * HEARTBEAT_SECONDS
# Rows of lanes gone for this long are deleted (a killed instance never deletes its own).
FORGOTTEN_AFTER = timedelta(hours=1)

SENDERS = cast(Table, OutboxSender.__table__)


@cache
def _beat() -> Any:
    """One statement: write this lane's moment, forget long-gone lanes, count the others seen
    lately (the count reads the snapshot before the write: this lane is added by the caller).

    The PostgreSQL dialect is imported here, by a lane on PostgreSQL only (a service on SQLite
    starts without it: tests/unit/test_lazy_imports.py)."""
    from sqlalchemy.dialects import postgresql

    # The database's clock, not the instances': theirs may differ by more than GONE_AFTER.
    now = func.now()
    me = bindparam("me", type_=SENDERS.c.instance_id.type)
    upsert = postgresql.insert(SENDERS).values(instance_id=me, seen_at=now)
    written = (
        upsert.on_conflict_do_update(
            index_elements=[SENDERS.c.instance_id], set_={"seen_at": upsert.excluded.seen_at}
        )
        .returning(SENDERS.c.instance_id)
        .cte("written")
    )
    forgotten = (
        delete(SENDERS)
        .where(
            SENDERS.c.seen_at < now - bindparam("forgotten", type_=Interval),
            SENDERS.c.instance_id != me,  # its own row is the upsert's: one change a row
        )
        .returning(SENDERS.c.instance_id)
        .cte("forgotten")
    )
    return (
        select(func.count())
        .select_from(SENDERS)
        .where(
            SENDERS.c.seen_at >= now - bindparam("gone", type_=Interval),
            SENDERS.c.instance_id != me,
        )
        .add_cte(written)
        .add_cte(forgotten)
    )


class SharedRate:
    """Keeps one lane's share of `rate` up to date while it runs (PostgreSQL only)."""

    def __init__(
        self,
        engine: AsyncEngine | None,
        instance_id: str,
        rate: float,
        apply: Callable[[float], None],
    ) -> None:
        """`engine`: the lane's (None, or SQLite: the whole rate, nothing written);
        `apply(share)` sets the lane's budget."""
        self._engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine is not None and engine.dialect.name == "postgresql"
            else None
        )
        self._me = instance_id
        self._rate = rate
        self._apply = apply
        self._task: asyncio.Task[None] | None = None
        self.lanes = 1
        # Set once this lane may send: at once on SQLite, after its first beat (and JOIN_WAIT
        # when other lanes run) on PostgreSQL.
        self._ready = asyncio.Event()
        if self._engine is None:
            self._ready.set()

    async def joined(self) -> None:
        """Wait until this lane may send: at once on SQLite; on PostgreSQL after its first beat
        and, when others run, JOIN_WAIT more. A first beat that cannot be written holds the lane
        no longer than that wait and two beats: it then sends at the whole rate until a beat
        counts the others."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(JOIN_WAIT + 2 * HEARTBEAT_SECONDS):
                await self._ready.wait()

    def start(self) -> None:
        """Start saying this lane runs, every HEARTBEAT_SECONDS."""
        if self._engine is not None and self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-senders")

    async def die(self) -> None:
        """Stop saying this lane runs, leaving its row (as a killed process does)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def stop(self) -> None:
        """Stop, and take this lane's row away: the others take its share at once."""
        if self._task is None or self._engine is None:
            return
        await self.die()
        try:
            async with self._engine.connect() as connection:
                await connection.execute(delete(SENDERS).where(SENDERS.c.instance_id == self._me))
        except Exception as exc:  # noqa: BLE001 - its row is left out after GONE_AFTER anyway
            log.warning("outbox: could not say this lane stopped (%s)", type(exc).__name__)

    async def beat(self) -> int:
        """Say this lane runs; set its share of the rate; return how many lanes run."""
        assert self._engine is not None  # noqa: S101 - started on PostgreSQL only
        async with self._engine.connect() as connection:
            others = (
                await connection.execute(
                    _beat(),
                    {
                        "me": self._me,
                        "gone": timedelta(seconds=GONE_AFTER),
                        "forgotten": FORGOTTEN_AFTER,
                    },
                )
            ).scalar_one()
        lanes = int(others) + 1
        if lanes != self.lanes:
            log.info("outbox: %d sending lanes share %g messages a second", lanes, self._rate)
            self.lanes = lanes
        self._apply(self._rate / lanes)
        return lanes

    async def _run(self) -> None:
        while True:
            try:
                lanes = await self.beat()
            except Exception as exc:  # noqa: BLE001 - the last share stands until the next beat
                log.warning("outbox: could not count the sending lanes (%s)", type(exc).__name__)
                lanes = self.lanes
            if not self._ready.is_set():
                if lanes > 1:
                    await asyncio.sleep(JOIN_WAIT)
                self._ready.set()
            await asyncio.sleep(HEARTBEAT_SECONDS)
