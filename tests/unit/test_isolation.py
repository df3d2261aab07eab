"""Per-user isolation: one update at a time per user, and no lock kept once a user is idle."""

from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey

from bot.isolation import ForgetfulEventIsolation


def _key(user: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user, user_id=user)


async def test_one_users_updates_run_one_at_a_time_and_others_in_parallel() -> None:
    isolation = ForgetfulEventIsolation()
    running: dict[int, int] = {1: 0, 2: 0}
    most: dict[int, int] = {1: 0, 2: 0}

    async def update(user: int) -> None:
        async with isolation.lock(_key(user)):
            running[user] += 1
            most[user] = max(most[user], running[user])
            await asyncio.sleep(0.01)
            running[user] -= 1

    await asyncio.gather(*(update(1) for _ in range(5)), *(update(2) for _ in range(5)))
    assert most == {1: 1, 2: 1}
    assert len(isolation) == 0


async def test_locks_are_forgotten_even_when_the_handler_fails() -> None:
    isolation = ForgetfulEventIsolation()
    for user in range(1000):
        try:
            async with isolation.lock(_key(user)):
                if user % 2:
                    raise RuntimeError("handler failed")
        except RuntimeError:
            pass
    assert len(isolation) == 0
