"""Several instances' sending lanes share Telegram's one budget (payments/outbox/senders.py).

Telegram counts a bot's messages whichever instance sends them: two instances at 20 a second
each must not send 40. Several instances run on PostgreSQL only (README "Several instances").
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from db.engine import create_engine, create_sessionmaker
from db.models_outbox import OutboxSender
from payments.outbox.senders import GONE_AFTER, HEARTBEAT_SECONDS, JOIN_WAIT
from tests.fakes.telegram_api import FakeTelegramAPI, busiest_second
from tests.integration.test_outbox_lane import add_users, broadcast, make_lane, sends, until

# Run by the services run (scripts/with-services.sh), which gives every test a PostgreSQL
# database; the SQLite run deselects them.
pytestmark = pytest.mark.services

RATE = 20.0


async def senders(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(OutboxSender))).one()[0])


async def test_two_instances_together_keep_to_one_rate_and_one_left_takes_all_of_it(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram: FakeTelegramAPI,
    bot: Bot,
    database_url: str,
) -> None:
    audience = list(range(12001, 12141))  # 140 chats: 7 s at 20 a second together
    await add_users(sessionmaker, audience)
    await broadcast(sessionmaker, audience)
    other_engine = create_engine(database_url)
    other_bot = create_bot(telegram.token, telegram.base_url)
    first = make_lane(sessionmaker, bot, rate=RATE)
    second = make_lane(create_sessionmaker(other_engine), other_bot, rate=RATE)
    first.start()
    await until(lambda: len(sends(telegram)) >= 10)  # the first is sending when the second comes
    second.start()
    try:
        await until(lambda: len(sends(telegram)) >= 100, timeout=20)
        assert (first.budget.rate, second.budget.rate) == (RATE / 2, RATE / 2)
        assert await senders(sessionmaker) == 2
        await second.stop()  # it says so: the first takes the whole rate at its next beat
        await until(lambda: first.budget.rate == RATE, timeout=2 * HEARTBEAT_SECONDS + 1)
        assert await senders(sessionmaker) == 1
        await until(lambda: len(sends(telegram)) >= len(audience), timeout=20)
    finally:
        await first.stop()
        await second.stop()
        await other_bot.session.close()
        await other_engine.dispose()
    moments = [moment for moment, _, _ in sends(telegram)]
    assert sorted(chat for _, chat, _ in sends(telegram)) == audience  # each once
    # Each lane keeps to floor(its share) + 1 in any second as Telegram counts (budget.py).
    assert busiest_second(moments) <= RATE + 2, busiest_second(moments)
    assert await senders(sessionmaker) == 0  # both said they stopped


async def test_a_lane_that_died_is_left_out_once_it_has_been_silent_a_while(
    sessionmaker: async_sessionmaker[AsyncSession], bot: Bot, database_url: str
) -> None:
    other_engine = create_engine(database_url)
    first = make_lane(sessionmaker, bot, rate=RATE)
    dying = make_lane(create_sessionmaker(other_engine), bot, rate=RATE)
    first.start()
    dying.start()
    try:
        await until(lambda: first.budget.rate == RATE / 2, timeout=3 * HEARTBEAT_SECONDS + 1)
        await dying.sharing.die()  # killed: its row stays, and says nothing more
        assert await senders(sessionmaker) == 2
        await until(lambda: first.budget.rate == RATE, timeout=GONE_AFTER + 2 * HEARTBEAT_SECONDS)
    finally:
        await first.stop()
        await dying.stop()
        await other_engine.dispose()


async def test_a_beat_forgets_lanes_gone_for_an_hour_and_counts_only_those_heard_lately(
    sessionmaker: async_sessionmaker[AsyncSession], bot: Bot
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        session.add_all(
            [
                OutboxSender(instance_id="killed-yesterday", seen_at=now - timedelta(days=1)),
                OutboxSender(instance_id="killed-just-now", seen_at=now - timedelta(seconds=10)),
                OutboxSender(instance_id="running", seen_at=now),
            ]
        )
    lane = make_lane(sessionmaker, bot, rate=RATE)
    assert await lane.sharing.beat() == 2  # this lane and "running"
    assert lane.budget.rate == RATE / 2
    async with sessionmaker() as session:
        kept = set((await session.execute(select(OutboxSender.instance_id))).scalars())
    assert kept == {"killed-just-now", "running", lane.instance_id}


async def test_a_lane_whose_first_beat_is_held_up_still_sends_after_the_longest_join_wait(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram: FakeTelegramAPI,
    bot: Bot,
    database_url: str,
) -> None:
    # Something holds the senders' table (a migration, a stuck session): the lane cannot say it
    # runs, nor count the others. Its customers' messages wait no longer than a lane joining
    # others would, and then go at the whole rate.
    audience = list(range(13001, 13004))
    await add_users(sessionmaker, audience)
    await broadcast(sessionmaker, audience)
    longest = JOIN_WAIT + 2 * HEARTBEAT_SECONDS
    holder_engine = create_engine(database_url)
    lane = make_lane(sessionmaker, bot, rate=RATE)
    try:
        async with holder_engine.connect() as holder:
            await holder.execute(text("LOCK TABLE outbox_senders IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            lane.start()
            await until(lambda: len(sends(telegram)) == len(audience), timeout=longest + 3)
            took = time.monotonic() - started
            await holder.rollback()
    finally:
        await lane.stop()
        await holder_engine.dispose()
    assert took >= longest - 0.2, took  # not before: it could not tell whether others ran
    assert lane.budget.rate == RATE
    assert await senders(sessionmaker) == 0  # it stopped: no row says it runs
