"""Broadcasts through the outbox (payments/admin/broadcast.py) on a real migrated database and
a real sending lane: 20 000 recipients queued in one transaction, Stop from another instance,
blocked users counted, the watcher's progress and its one recorded outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditLog, User
from db.models_outbox import OutboxMessage
from payments.admin.audience import AUDIENCE_CHUNK
from payments.admin.broadcast import (
    BroadcastProgress,
    ProgressSpot,
)
from payments.outbox.lane import SendingLane
from payments.outbox.outcomes import Blocked, Envelope, Outcome, Sent
from tests.conftest import MovableClock
from tests.loop_probe import LoopProbe
from tests.outbox_kit import broadcaster as make_broadcaster
from tests.outbox_kit import settle

ADMIN = 900_001
SPOT = ProgressSpot(ADMIN, 42, "ru")


async def _users(sessionmaker: async_sessionmaker[AsyncSession], ids: range) -> None:
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        await session.execute(
            insert(User),
            [
                {
                    "id": str(uid),
                    "first_name": "U",
                    "language": "ru",
                    "is_blocked": False,
                    "onboarding_completed": False,
                    "created_at": now,
                }
                for uid in ids
            ],
        )


async def _statuses(sessionmaker: async_sessionmaker[AsyncSession], draft_id: int) -> Counter[str]:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.broadcast_id == draft_id)
                .group_by(OutboxMessage.status)
            )
        ).all()
    return Counter({str(status): int(count) for status, count in rows})


class Shown:
    """A ProgressSink that keeps what it was shown."""

    def __init__(self) -> None:
        self.seen: list[BroadcastProgress] = []

    async def show(self, progress: BroadcastProgress) -> None:
        self.seen.append(progress)


async def test_confirming_queues_20000_messages_at_once_and_only_once(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    # The reference, in the same run: writing the 20 000 users themselves in one executemany.
    started = time.perf_counter()
    await _users(sessionmaker, range(1_000_001, 1_020_001))
    reference = time.perf_counter() - started
    broadcaster = make_broadcaster(sessionmaker, clock)
    draft = await broadcaster.draft_broadcast(ADMIN, "<b>Sale</b> opens at noon")
    assert draft.recipients == 20_000

    # While it is confirmed, other customers' updates get the loop between its chunks (on
    # SQLite statements run in place: reading the users and sending 20 000 rows of parameters
    # held it for 1-3 s at once).
    turns = 0

    async def other_updates() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    others = asyncio.create_task(other_updates())
    await asyncio.sleep(0)
    started, turns = time.perf_counter(), 0
    confirmed = await broadcaster.confirm_broadcast(ADMIN, draft.id, SPOT)
    took = time.perf_counter() - started
    others.cancel()
    assert confirmed is not None
    assert confirmed.recipients == 20_000
    assert turns >= 20_000 // AUDIENCE_CHUNK - 1, turns
    # The database writes every row itself: a fraction of the users' own insert (an
    # executemany); 500 rows of parameters per statement took 3-8 times as long.
    assert took < 3 * reference, (took, reference)

    # A second press, another admin, another instance: nothing more is queued.
    assert await broadcaster.confirm_broadcast(ADMIN, draft.id, SPOT) is None
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(
                    func.count(),
                    func.count(func.distinct(OutboxMessage.chat_id)),
                    func.min(OutboxMessage.priority),
                    func.max(OutboxMessage.priority),
                ).where(OutboxMessage.broadcast_id == draft.id, OutboxMessage.kind == "broadcast")
            )
        ).one()
        one = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.chat_id == 1_000_001))
        ).scalar_one()
        entry = await session.get(AuditLog, draft.id)
    assert tuple(rows) == (20_000, 20_000, 1, 1)
    assert (one.status, one.dedupe_key, one.payload) == (
        "pending",
        f"bc:{draft.id}:1000001",
        {"text": "<b>Sale</b> opens at noon"},
    )
    assert entry is not None
    assert entry.result == "sending"
    assert entry.args["recipients"] == 20_000
    assert ProgressSpot.from_args(entry.args) == SPOT
    assert [r.id for r in await broadcaster.running()] == [draft.id]


@pytest.mark.sqlite_only
async def test_watching_a_large_broadcast_leaves_the_loop_free(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    # The watcher counts the broadcast's rows every two seconds, reading every one of them. On
    # SQLite, where statements run on the loop, that read must run in the reader's worker
    # thread (Reader.report), never through the sessionmaker: customers' updates wait
    # meanwhile.
    await _users(sessionmaker, range(2_000_001, 2_100_001))
    broadcaster = make_broadcaster(sessionmaker, clock)
    draft = await broadcaster.draft_broadcast(ADMIN, "Sale")
    assert await broadcaster.confirm_broadcast(ADMIN, draft.id, SPOT) is not None
    loop = asyncio.get_running_loop()

    async with LoopProbe(tick=0.002) as probe:
        started = loop.time()
        progress = await broadcaster.progress(draft.id)
        took = loop.time() - started

    assert (progress.total, progress.pending, progress.sent) == (100_000, 100_000, 0)
    assert took > 10 * probe.tick, "the count was too quick to tell anything"
    # Run on the loop, the probe would wake up late by about the count's whole time.
    assert probe.worst < took / 3, (probe.worst, took)


async def test_stop_from_another_instance_cancels_what_is_not_sent(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    await _users(sessionmaker, range(2_000_001, 2_000_051))
    here = make_broadcaster(sessionmaker, clock)
    there = make_broadcaster(sessionmaker, clock)  # the other instance
    draft = await here.draft_broadcast(ADMIN, "news")
    assert await here.confirm_broadcast(ADMIN, draft.id, SPOT) is not None

    assert await there.request_stop(ADMIN, draft.id)
    assert not await there.request_stop(ADMIN, draft.id)  # once
    assert await _statuses(sessionmaker, draft.id) == Counter({"canceled": 50})
    assert not await here.still_sending(draft.id)

    shown = Shown()
    final = await here.watch(draft.id, shown, every=0.01)
    assert final is not None
    assert (final.finished, final.stopped, final.done, final.total) == (True, True, 0, 50)
    assert shown.seen == [final]
    async with sessionmaker() as session:
        entry = await session.get(AuditLog, draft.id)
    assert entry is not None
    assert entry.result == "sent 0 of 50; blocked 0; failed 0; retries 0; stopped at 0/50"
    assert await here.running() == []


async def test_the_watcher_counts_sent_and_blocked_and_records_the_outcome_once(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    ids = range(3_000_001, 3_000_041)
    await _users(sessionmaker, ids)
    broadcaster = make_broadcaster(sessionmaker, clock)
    draft = await broadcaster.draft_broadcast(ADMIN, "hello")
    assert await broadcaster.confirm_broadcast(ADMIN, draft.id, SPOT) is not None
    blocked = {3_000_005, 3_000_017}
    delivered: Counter[int] = Counter()

    async def deliver(envelope: Envelope) -> Outcome:
        assert envelope.chat_id is not None
        if envelope.chat_id in blocked:
            return Blocked()
        delivered[envelope.chat_id] += 1
        return Sent()

    lane = SendingLane(sessionmaker, rate=1000.0, per_chat_seconds=0.0, poll_seconds=0.05)
    lane.register("broadcast", deliver)
    first, second = Shown(), Shown()
    lane.start()
    try:
        # Two instances watch the same broadcast: one records and shows the outcome.
        results = await asyncio.wait_for(
            asyncio.gather(
                broadcaster.watch(draft.id, first, every=0.05),
                make_broadcaster(sessionmaker, clock).watch(draft.id, second, every=0.05),
            ),
            timeout=20,
        )
        await settle(lane)
    finally:
        await lane.stop()

    finals = [r for r in results if r is not None]
    assert len(finals) == 1
    final = finals[0]
    assert (final.sent, final.blocked, final.failed, final.total) == (38, 2, 0, 40)
    assert not final.stopped
    assert sum(1 for p in first.seen + second.seen if p.finished) == 1
    assert set(delivered.values()) == {1}
    assert len(delivered) == 38
    async with sessionmaker() as session:
        entry = await session.get(AuditLog, draft.id)
        marked = set(
            (await session.execute(select(User.id).where(User.is_blocked.is_(True)))).scalars()
        )
    assert entry is not None
    assert entry.result == "sent 38 of 40; blocked 2; failed 0; retries 0"
    assert marked == {str(uid) for uid in blocked}
