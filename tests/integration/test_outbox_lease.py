"""A sending lane that dies (or is stopped) in the middle of a delivery, on a migrated database.

What a recipient would notice: a broadcast message whose send was under way when its instance
died is not sent again (it may have reached Telegram: no one gets it twice); a confirmation in
the same spot is sent again (a doubled confirmation beats a lost ticket); a row only claimed is
sent by the next instance. A dead instance is a lane whose loop is gone and whose deliveries
never come back, its lease then run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from db.models_outbox import OutboxMessage
from db.reader import Reader
from payments.admin.broadcast import BroadcastProgress
from payments.metrics import REGISTRY, DatabaseGauges
from payments.outbox.lane import STOPPED_IN_FLIGHT, SendingLane
from payments.outbox.outcomes import Deliver, Envelope, Outcome
from payments.outbox.statements import CLAIMED as IN_HAND
from payments.outbox.statements import IN_FLIGHT_ERROR
from payments.outbox.store import PRIORITY_BROADCAST
from payments.ports import SystemClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.integration.test_outbox_lane import (
    ENDED_RU,
    add_users,
    broadcast,
    make_lane,
    rows,
    sends,
    tell_ended,
    until,
)
from tests.outbox_kit import broadcaster as make_broadcaster

IN_FLIGHT = 9001  # gets a broadcast message; the lane dies right after Telegram took it
CONFIRMED = 9002  # gets a confirmation; the lane dies right after Telegram took it
CLAIMED = 9003  # gets a broadcast message the lane had claimed but not started


def hang_after_send(deliver: Deliver, resume: asyncio.Event) -> Deliver:
    """Deliver, then never come back until `resume`: the process died before recording it."""

    async def hung(envelope: Envelope) -> Outcome:
        outcome = await deliver(envelope)
        await resume.wait()
        return outcome

    return hung


def hang_all(lane: SendingLane, resume: asyncio.Event) -> None:
    for kind, deliver in list(lane._deliverers.items()):
        lane.register(kind, hang_after_send(deliver, resume))


async def lease_runs_out(
    sessionmaker: async_sessionmaker[AsyncSession], chat_id: int | None = None
) -> None:
    """Move the lease of the claimed rows (of one chat) into the past: time has passed."""
    statement = update(OutboxMessage).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
    if chat_id is not None:
        statement = statement.where(OutboxMessage.chat_id == chat_id)
    async with sessionmaker.begin() as session:
        await session.execute(statement)


async def row_becomes(
    sessionmaker: async_sessionmaker[AsyncSession],
    chat_id: int,
    status: str,
    priority: int | None = None,
) -> None:
    """Wait until the row of a chat (of a priority) has this status."""
    statement = select(OutboxMessage.status).where(OutboxMessage.chat_id == chat_id)
    if priority is not None:
        statement = statement.where(OutboxMessage.priority == priority)
    async with asyncio.timeout(10):
        while True:
            async with sessionmaker() as session:
                if (await session.execute(statement)).scalar_one_or_none() == status:
                    return
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def stalled_beside(stalled: SendingLane, other: SendingLane) -> AsyncIterator[None]:
    """Run the `stalled` lane (the test starts `other` once a lease ran out); at the end both
    finish what they hold, and stop even when the test failed."""
    stalled.start()
    try:
        yield
        async with asyncio.timeout(10):
            await other.drain()
            await stalled.drain()
    finally:
        await other.stop()
        await stalled.stop()


@dataclass
class Death:
    """The rows as the dead lane left them, and what the next instance made of them."""

    left: dict[int | None, str]
    depth_delivering: float | None
    progress_left: BroadcastProgress
    after: dict[int | None, OutboxMessage]


@pytest.fixture
async def death(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> AsyncIterator[Death]:
    """A lane sends a confirmation and a broadcast message, holds one more, and dies there.

    Its lease runs out and the next instance's lane takes over until nothing is left to send.
    """
    await add_users(sessionmaker, [IN_FLIGHT, CONFIRMED, CLAIMED])
    await broadcast(sessionmaker, [IN_FLIGHT, CLAIMED])
    await tell_ended(sessionmaker, [CONFIRMED])
    dying_bot = create_bot(telegram.token, telegram.base_url)
    resume = asyncio.Event()
    # Two deliveries at once: the confirmation and the first broadcast row; the other waits.
    dying = make_lane(sessionmaker, dying_bot, concurrency=2)
    hang_all(dying, resume)
    dying.start()
    try:
        await until(lambda: len(sends(telegram)) == 2)
        assert dying._task is not None
        dying._task.cancel()  # the process is gone: no more passes, nothing recorded
        with contextlib.suppress(asyncio.CancelledError):
            await dying._task
        await dying.sharing.die()  # nor does it say it runs (its last word stays behind)
        left = {row.chat_id: row.status for row in await rows(sessionmaker)}
        reader = Reader(sessionmaker.kw["bind"])
        try:
            await DatabaseGauges(reader).refresh()
        finally:
            reader.close()
        depth = REGISTRY.get_sample_value(
            "zooticket_outbox_depth", {"status": "delivering", "priority": "1"}
        )
        progress = await make_broadcaster(sessionmaker, SystemClock()).progress(1)
        await lease_runs_out(sessionmaker)
        following = make_lane(sessionmaker, bot)
        following.start()
        try:
            async with asyncio.timeout(10):
                await following.drain()
        finally:
            await following.stop()
        found = Death(left, depth, progress, {row.chat_id: row for row in await rows(sessionmaker)})
        yield found
    finally:
        # The dead instance's deliveries come back at last (a stalled process, not a dead one):
        # the rows the next lane took over stay as it left them; the broadcast message given
        # up as in flight is recorded as what it was, sent (once: nothing is sent again).
        sent_before = len(sends(telegram))
        resume.set()
        await asyncio.gather(*dying._state.in_flight.values())
        await dying_bot.session.close()
    now = {row.chat_id: row.status for row in await rows(sessionmaker)}
    assert now == {chat: row.status for chat, row in found.after.items()} | {IN_FLIGHT: "sent"}
    assert len(sends(telegram)) == sent_before


async def test_a_broadcast_message_in_flight_when_its_lane_died_is_given_up_not_sent_twice(
    death: Death,
    telegram: FakeTelegramAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Its send was recorded as started; the one only claimed was not.
    assert death.left == {IN_FLIGHT: "delivering", CLAIMED: "sending", CONFIRMED: "sending"}
    assert death.depth_delivering == 1  # /metrics shows it in flight
    left = death.progress_left  # the admin's report: both still on their way
    assert (left.total, left.sent, left.failed, left.pending) == (2, 0, 0, 2)
    assert len(sends(telegram, IN_FLIGHT)) == 1
    row = death.after[IN_FLIGHT]
    assert (row.status, row.last_error) == ("failed", IN_FLIGHT_ERROR)
    assert any(
        "1 broadcast rows in flight when their sender died given up" in r.getMessage()
        for r in caplog.get_records("setup")  # the fixture's next lane logged it
        if r.levelno == logging.WARNING
    )
    # The admin's report adds up: one delivered, one not, nothing left to wait for.
    progress = await make_broadcaster(sessionmaker, SystemClock()).progress(1)
    assert (progress.total, progress.sent, progress.failed, progress.pending) == (2, 1, 1, 0)


async def test_a_confirmation_in_flight_and_a_claimed_broadcast_message_are_sent_again(
    death: Death, telegram: FakeTelegramAPI
) -> None:
    # At least once: the confirmation Telegram may have had goes out again; the broadcast
    # message that was only claimed goes out once.
    ended = [text for _, _, text in sends(telegram, CONFIRMED)]
    assert len(ended) == 2
    assert all(ENDED_RU in text for text in ended)
    assert len(sends(telegram, CLAIMED)) == 1
    assert death.after[CONFIRMED].status == "sent"
    assert death.after[CLAIMED].status == "sent"


async def test_a_lane_stalled_past_its_lease_with_a_send_under_way_sends_it_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram: FakeTelegramAPI,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A lane stalled past its lease (here: waiting 2 s for its next token, the row already
    # marked) while another instance took its leases back: the other gives the row up (it may
    # be on its way), the stalled one sends it, and the row ends recorded as sent.
    first, second = 9101, 9102
    await add_users(sessionmaker, [first, second])
    await broadcast(sessionmaker, [first, second])
    stalled_bot = create_bot(telegram.token, telegram.base_url)
    stalled = make_lane(sessionmaker, stalled_bot, rate=0.5)
    other = make_lane(sessionmaker, bot)
    try:
        async with stalled_beside(stalled, other):
            await until(lambda: len(sends(telegram, first)) == 1)
            await row_becomes(sessionmaker, second, "delivering")  # waiting for its token
            await lease_runs_out(sessionmaker, second)
            other.start()  # its first pass takes back the rows of expired leases
            await until(lambda: any("given up" in r.getMessage() for r in caplog.records))
            await until(lambda: len(sends(telegram, second)) == 1)
    finally:
        await stalled_bot.session.close()
    assert len(sends(telegram, second)) == 1
    assert {row.chat_id: row.status for row in await rows(sessionmaker)} == {
        first: "sent",
        second: "sent",
    }


async def test_a_lane_that_lost_its_lease_before_marking_a_row_does_not_send_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram: FakeTelegramAPI,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A lane stalled past its lease before a row's send began (here: its chat's turn is 3 s
    # away) while another instance took the row over and sent it: the stalled one must not.
    chat = 9201
    await add_users(sessionmaker, [chat])
    stalled = make_lane(sessionmaker, bot, per_chat_seconds=3.0)
    other = make_lane(sessionmaker, bot)
    async with stalled_beside(stalled, other):
        await tell_ended(sessionmaker, [chat])
        await until(lambda: len(sends(telegram, chat)) == 1)
        await broadcast(sessionmaker, [chat])
        await row_becomes(sessionmaker, chat, "sending", PRIORITY_BROADCAST)  # held, unmarked
        await lease_runs_out(sessionmaker, chat)
        other.start()
        await until(lambda: len(sends(telegram, chat)) == 2)
        await until(lambda: any("lease lost" in r.getMessage() for r in caplog.records), 6)
    assert len(sends(telegram, chat)) == 2  # the confirmation, and the broadcast once
    assert [row.status for row in await rows(sessionmaker)] == ["sent", "sent"]


async def test_a_broadcast_send_cut_off_by_a_graceful_stop_is_given_up_not_put_back(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    # stop() waits `grace` for deliveries in flight, then cancels them. A broadcast send cut
    # off may have reached Telegram: given up. A confirmation cut off goes back to pending.
    await add_users(sessionmaker, [IN_FLIGHT, CONFIRMED])
    await broadcast(sessionmaker, [IN_FLIGHT])
    await tell_ended(sessionmaker, [CONFIRMED])
    resume = asyncio.Event()
    lane = make_lane(sessionmaker, bot)
    hang_all(lane, resume)
    lane.start()
    try:
        await until(lambda: len(sends(telegram)) == 2)
    finally:
        await lane.stop(grace=0.2)
    by_chat = {row.chat_id: row for row in await rows(sessionmaker)}
    assert (by_chat[IN_FLIGHT].status, by_chat[IN_FLIGHT].last_error) == (
        "failed",
        STOPPED_IN_FLIGHT,
    )
    assert by_chat[CONFIRMED].status == "pending"
    assert by_chat[CONFIRMED].attempts == 0  # a stop is no failed attempt


async def test_a_sweep_committing_chunk_after_chunk_does_not_overfill_one_lanes_hand(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    # The expiry sweep wakes the lane after every chunk of notices it commits. A wake claims at
    # once, even with rows in hand (a confirmation must not wait behind a broadcast), but never
    # into a full hand: otherwise one instance held a backlog thousands deep, in memory and
    # under its lease, while other instances could have sent it.
    chats = list(range(9301, 9601))
    await add_users(sessionmaker, chats)
    batch, concurrency = 20, 4
    lane = make_lane(sessionmaker, bot, rate=5.0, batch=batch, concurrency=concurrency)
    statement = select(func.count()).where(OutboxMessage.status.in_(IN_HAND))
    most = 0
    lane.start()
    try:
        for first in range(0, len(chats), 10):
            await tell_ended(sessionmaker, chats[first : first + 10])  # a chunk committed
            lane.wake()
            await asyncio.sleep(0.05)
            async with sessionmaker() as session:
                most = max(most, (await session.execute(statement)).scalar_one())
    finally:
        await lane.stop()
    assert 0 < most <= batch + concurrency, most
    assert len(sends(telegram)) > 0  # it was sending meanwhile
