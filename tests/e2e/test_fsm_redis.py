"""The bot's batched Redis storage keeps aiogram's keys and values: either reads the other's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from bot.fsm_redis import BatchedRedisStorage
from bot.runner import redis_fsm_storage
from tests.e2e.conftest import REDIS_URL

pytestmark = pytest.mark.services

KEY = StorageKey(bot_id=42, chat_id=9100, user_id=9100)


@pytest.fixture
async def storages() -> AsyncIterator[tuple[BatchedRedisStorage, RedisStorage]]:
    assert REDIS_URL, "this test needs the Redis of the services run"
    ours = redis_fsm_storage(REDIS_URL)
    theirs = RedisStorage.from_url(REDIS_URL, key_builder=DefaultKeyBuilder(with_bot_id=True))
    yield ours, theirs
    await theirs.set_state(KEY, None)
    await theirs.set_data(KEY, {})
    await ours.close()
    await theirs.close()


async def test_one_round_trip_reads_and_writes_what_aiograms_storage_does(
    storages: tuple[BatchedRedisStorage, RedisStorage],
) -> None:
    ours, theirs = storages
    assert await ours.read_both(KEY) == (None, {})

    await theirs.set_state(KEY, "TicketFlow:slot")
    await theirs.set_data(KEY, {"date": "2026-12-05", "qty": {"adult": 2}, "msg_id": None})
    assert await ours.read_both(KEY) == (
        "TicketFlow:slot",
        {"date": "2026-12-05", "qty": {"adult": 2}, "msg_id": None},
    )

    await ours.write_both(KEY, {"state": "TicketFlow:email", "data": {"email": "a@b.ru"}})
    assert await theirs.get_state(KEY) == "TicketFlow:email"
    assert await theirs.get_data(KEY) == {"email": "a@b.ru"}

    # Only what changed is written; None and {} clear as aiogram's set_state and set_data do.
    await ours.write_both(KEY, {"data": {}})
    assert await theirs.get_state(KEY) == "TicketFlow:email"
    assert await theirs.get_data(KEY) == {}
    assert await theirs.redis.exists(theirs.key_builder.build(KEY, "data")) == 0
    await ours.write_both(KEY, {"state": None})
    assert await ours.read_both(KEY) == (None, {})
    assert await theirs.redis.exists(theirs.key_builder.build(KEY, "state")) == 0
