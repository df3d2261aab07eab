"""The bot's FSM state in Redis: aiogram's keys and values; a journey outlives its process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from bot.fsm_redis import BatchedRedisStorage
from bot.runner import redis_fsm_storage
from tests.e2e.admin_chat import shop_day
from tests.e2e.conftest import REDIS_URL, Shop, ShopFactory
from tests.e2e.dates import pick_day

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


async def test_a_ticket_journey_goes_on_after_a_restart(make_shop: ShopFactory) -> None:
    """The state is in Redis, not in the process: a restart between two steps loses nothing."""
    assert REDIS_URL, "this test needs the Redis of the services run"
    first = await make_shop()
    user = first.telegram.user(9200)
    await user.send("/tickets")
    await user.wait_reply()
    await pick_day(user, shop_day(first, 1))
    await user.wait_reply()
    await first.service.stop()

    await make_shop()
    await user.press("10:00", contains=True)  # a button the stopped process sent
    counts = await user.wait_reply()
    assert "+" in counts.button_texts()
    assert not [a for a in user.callback_answers if a and "устарела" in a]


async def commands_of_a_day_press(shop: Shop, user_id: int) -> list[str]:
    """Open /tickets for `user_id`, then return the Redis commands about that user while the
    day's button is pressed and answered (MONITOR)."""
    user = shop.telegram.user(user_id)
    await user.send("/tickets")
    await user.wait_reply()

    async def step() -> None:
        await pick_day(user, shop_day(shop, 1))
        await user.wait_reply()

    return [c for c in await redis_commands(step) if f":{user_id}:" in c]


async def redis_commands(step: Callable[[], Awaitable[object]]) -> list[str]:
    """Run `step` and return every command Redis received meanwhile (MONITOR), as text."""
    assert REDIS_URL, "this test needs the Redis of the services run"
    seen: list[str] = []
    marker = f"end-{uuid.uuid4()}"
    client: Redis = Redis.from_url(REDIS_URL)
    async with client.monitor() as monitor:
        done = asyncio.Event()

        async def listen() -> None:
            async for command in monitor.listen():
                seen.append(str(command["command"]))
                if marker in seen[-1]:
                    done.set()
                    return

        listening = asyncio.create_task(listen())
        await step()
        await client.echo(marker)  # every command sent before it is seen before it
        async with asyncio.timeout(10):
            await done.wait()
        await listening
    await client.aclose()
    return seen


async def test_with_long_polling_a_step_reads_its_state_and_takes_no_lock_in_redis(
    make_shop: ShopFactory,
) -> None:
    """Only this process gets the bot's updates when it polls: the in-process lock is enough,
    and each step is spared the lock's two round trips (SET NX, the release script)."""
    ours = await commands_of_a_day_press(await make_shop(), 9300)
    assert any(c.startswith("MGET") for c in ours), ours  # the state came from Redis
    assert any(c.startswith("SET") and ":9300:data" in c for c in ours), ours  # and went back
    assert not [c for c in ours if ":lock" in c]
