"""Sandbox notifications: POST each event to the shop's webhook, redelivering as YooKassa does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

JSON = dict[str, Any]

_NOTIFY_TIMEOUT = aiohttp.ClientTimeout(total=10)


class Deliveries:
    """Notification deliveries under way: one task per event, retried after each delay."""

    def __init__(self, redelivery_delays: Sequence[float]) -> None:
        """Retry a failed delivery after each of ``redelivery_delays`` seconds, then give up."""
        self.redelivery_delays = tuple(redelivery_delays)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def send(self, url: str, body: JSON) -> None:
        """Start delivering ``body`` to ``url`` in the background."""
        task = asyncio.get_running_loop().create_task(self._deliver(url, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Wait until every delivery under way has ended (delivered or given up)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel pending deliveries and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, url: str, body: JSON) -> None:
        delays = (0.0, *self.redelivery_delays)
        for attempt, delay in enumerate(delays, start=1):
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                status = await self._post(url, body)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = type(exc).__name__
            else:
                if status == 200:
                    return
                problem = f"HTTP {status}"
            # No URL in the log: it is ours, and could carry a secret in its query.
            log.warning(
                "SANDBOX: %s notification for %s not delivered (attempt %d of %d): %s%s",
                body["event"],
                body["object"]["id"],
                attempt,
                len(delays),
                problem,
                "" if attempt < len(delays) else "; giving up",
            )

    async def _post(self, url: str, body: JSON) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=_NOTIFY_TIMEOUT)
        async with self._session.post(url, json=body) as response:
            await response.read()
            return response.status
