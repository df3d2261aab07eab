"""The local YooKassa of make bench's webhook part, in a process of its own.

YooKassa is another company's server: its work must not queue on the event loop of the shop
under test, so the webhook part runs the fake here and drives it over stdin/stdout, one
command a line:

    pay <id>...  pay pending payments as the payer would    -> "ok"
    lose <n>     do not deliver the next n notifications    -> "ok"
    times        the fake's own time per payment re-fetch   -> JSON {payment id: seconds}
    quit         stop

The first line it prints is "ready <api_url>". The "own time" of a re-fetch runs from the
moment the fake's handler has the request to the moment its answer is made: what a provider
spends, not what the shop spends asking.

Usage: bench_provider.py SHOP_ID SECRET_KEY
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.yookassa_api import FakeYooKassa  # noqa: E402

PAYMENT_PATH = re.compile(r"/v3/payments/([0-9a-f-]{36})$")


class TimedYooKassa(FakeYooKassa):
    """The fake, timing its own handling of each payment re-fetch."""

    def __init__(self, shop_id: str, secret_key: str) -> None:
        """Start with no timings."""
        super().__init__(shop_id=shop_id, secret_key=secret_key)
        self.fetch_seconds: dict[str, float] = {}

    async def _handle(self, request: web.Request) -> web.Response:
        began = time.perf_counter()
        try:
            return await super()._handle(request)
        finally:
            found = PAYMENT_PATH.match(request.path)
            if request.method == "GET" and found:
                self.fetch_seconds[found.group(1)] = time.perf_counter() - began


async def serve(shop_id: str, secret_key: str) -> None:
    """Run the fake and answer commands until "quit" or the end of stdin."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with TimedYooKassa(shop_id, secret_key) as fake:
        print(f"ready {fake.api_url}", flush=True)
        while line := (await reader.readline()).decode().strip():
            command, _, argument = line.partition(" ")
            if command == "pay":
                for payment_id in argument.split():
                    await fake.pay(payment_id)
                print("ok", flush=True)
            elif command == "lose":
                fake.lose_notifications(int(argument))
                print("ok", flush=True)
            elif command == "times":
                print(json.dumps(fake.fetch_seconds), flush=True)
            else:
                break


class RemoteYooKassa:
    """The bench's side of the fake in its own process (see the module's docstring)."""

    def __init__(self, shop_id: str, secret_key: str) -> None:
        """Remember the credentials; `async with` starts the process."""
        self._args = (shop_id, secret_key)
        self._process: asyncio.subprocess.Process | None = None
        self.api_url = ""

    async def __aenter__(self) -> RemoteYooKassa:
        """Start the fake and wait until it listens."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            *self._args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 24,  # the "times" answer is one long line
        )
        ready = await self._line()
        if not ready.startswith("ready "):
            raise RuntimeError(f"the local YooKassa did not start: {ready!r}")
        self.api_url = ready.removeprefix("ready ")
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop the fake."""
        if self._process is not None:
            await self._ask("quit")
            await self._process.wait()

    def _pipes(self) -> tuple[asyncio.StreamWriter, asyncio.StreamReader]:
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise RuntimeError("the local YooKassa is not running")
        return process.stdin, process.stdout

    async def _line(self) -> str:
        return (await self._pipes()[1].readline()).decode().strip()

    async def _ask(self, command: str) -> str:
        stdin, _ = self._pipes()
        stdin.write(command.encode() + b"\n")
        await stdin.drain()
        return "" if command == "quit" else await self._line()

    async def pay(self, payment_ids: list[str]) -> None:
        """Pay these pending payments."""
        await self._ask("pay " + " ".join(payment_ids))

    async def lose_notifications(self, count: int) -> None:
        """Do not deliver the next `count` notifications."""
        await self._ask(f"lose {count}")

    async def fetch_seconds(self) -> dict[str, float]:
        """Return the fake's own time of each payment re-fetch so far, by payment id."""
        times: dict[str, float] = json.loads(await self._ask("times"))
        return times


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
