"""aiogram's Redis storage, reading and writing a key's state and data in one round trip.

Imported only when REDIS_URL is set (it imports the Redis client). The keys and values are
aiogram's own (`RedisStorage`), so either reads what the other wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from bot.fsm_cache import DATA, STATE


class BatchedRedisStorage(RedisStorage):
    """RedisStorage with one MGET for a key's state and data, and one pipeline to write them."""

    async def read_both(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        """Return the key's state and data (as get_state and get_data would), in one MGET."""
        state, data = await self.redis.mget(
            self.key_builder.build(key, STATE), self.key_builder.build(key, DATA)
        )
        if isinstance(state, bytes):
            state = state.decode("utf-8")
        if data is None:
            return state, {}
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        return state, cast(dict[str, Any], self.json_loads(data))

    async def write_both(self, key: StorageKey, changes: Mapping[str, Any]) -> None:
        """Write the state and/or data in `changes` (as set_state and set_data would), at once."""
        async with self.redis.pipeline(transaction=False) as pipe:
            if STATE in changes:
                state_key, state = self.key_builder.build(key, STATE), changes[STATE]
                if state is None:
                    pipe.delete(state_key)
                else:
                    pipe.set(state_key, state, ex=self.state_ttl)
            if DATA in changes:
                data_key, data = self.key_builder.build(key, DATA), changes[DATA]
                if data:
                    pipe.set(data_key, self.json_dumps(data), ex=self.data_ttl)
                else:
                    pipe.delete(data_key)
            await pipe.execute()
