"""A round-robin HTTP balancer on loopback, as in front of several instances.

Used by the two-instance tests and by `make bench`'s rush with BENCH_RUSH_INSTANCES.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Self

import aiohttp
from aiohttp import web


class Balancer:
    """Forwards each request to the next of its targets in turn."""

    def __init__(self) -> None:
        """Start with no targets."""
        self.targets: list[str] = []
        self.hits: Counter[str] = Counter()  # requests forwarded to each target
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> Self:
        """Listen on a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._client = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        """Stop."""
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        target = self.targets[next(self._turn) % len(self.targets)]
        self.hits[target] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host"}}
        async with self._client.request(
            request.method, f"{target}{request.rel_url}", data=await request.read(), headers=headers
        ) as answer:
            body = await answer.read()
            return web.Response(body=body, status=answer.status, content_type=answer.content_type)
