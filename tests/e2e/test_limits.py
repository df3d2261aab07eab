"""Request size limits: oversized bodies are refused with 413 before anything reads them.

The process test runs the real `main.py` and floods it with four 20 MB bodies at once (the
attack that took the service from 240 to 965 MB); the others speak raw HTTP to the composed
service to show the refusal comes before the body is sent, not after it was buffered.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from payments.api.auth import Tokens
from payments.api.limits import API_MAX_BODY_BYTES, WEBHOOK_MAX_BODY_BYTES
from payments.yookassa.webhook import WEBHOOK_PATH
from settings import Settings
from tests.e2e.conftest import ShopFactory
from tests.fakes.telegram_api import FakeTelegramAPI

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
FLOOD_BYTES = 20 * MIB
TG_HOOK = "/telegram/webhook"
JWT = "j" * 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/{pid}/status")


def _forget_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS, so the peak measures what comes next alone."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """Send a body with Transfer-Encoding: chunked (no Content-Length)."""
    view = memoryview(data)
    for start in range(0, len(view), size):
        yield bytes(view[start : start + size])


@pytest.mark.slow
async def test_four_20_mb_bodies_are_refused_without_growing_the_process(
    tmp_path: Path, telegram: FakeTelegramAPI
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(
        HTTP_PORT=str(port),
        BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE=telegram.base_url,
        TELEGRAM_WEBHOOK_URL=f"{base}{TG_HOOK}",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "main.py"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "no /health within a minute"
                await asyncio.sleep(0.2)
            await telegram.wait_for_request("setWebhook", timeout=30)

            _forget_peak(process.pid)
            before = _status_kib(process.pid, "VmRSS")

            body = b"{" + b'"a":' * (FLOOD_BYTES // 4)
            flood = [
                client.post("/api/v2/payments/create", content=body),
                client.post("/v1/payments/sessions", content=_chunks(body)),
                client.post(WEBHOOK_PATH, content=_chunks(body)),
                client.post(TG_HOOK, content=body),
            ]
            sending = asyncio.gather(*flood)
            health: list[int] = []
            while not sending.done():
                health.append((await client.get("/health", timeout=5)).status_code)
                await asyncio.sleep(0.05)
            answers = await sending
            peak = _status_kib(process.pid, "VmHWM")
        assert [a.status_code for a in answers] == [413, 413, 413, 413], [
            (a.request.url.path, a.status_code, a.text[:100]) for a in answers
        ]
        assert all(a.json()["message"] == "Request body too large" for a in answers)
        assert health and set(health) == {200}, health
        grown_mib = (peak - before) / 1024
        assert grown_mib < 50, f"peak memory grew by {grown_mib:.0f} MiB"
        process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), 15))[0].decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    assert process.returncode == 0, output
    assert "Traceback" not in output


async def _raw(port: int, head: str, first: bytes = b"") -> tuple[int, bytes]:
    """Send a request head (and a first piece of body), then read the answer.

    The rest of the body is never sent: an answer that arrives proves the service answered
    without waiting for the body it announced.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + first)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = next(
            int(line.split(b":")[1])
            for line in headers.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return int(status_line.split()[1]), await reader.readexactly(length)
    finally:
        writer.close()


@pytest.fixture
async def port(make_shop: ShopFactory) -> int:
    shop = await make_shop(
        JWT_SECRET=JWT,
        TELEGRAM_WEBHOOK_URL=f"https://shop.example.com{TG_HOOK}",
    )
    return shop.service.port


def _head(path: str, *, length: int | None = None, token: str | None = None) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: shop", "Content-Type: application/json"]
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    lines.append(framing)
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return "\n".join(lines) + "\n"


def _chunk(size: int) -> bytes:
    return f"{size:x}\r\n".encode() + b" " * size + b"\r\n"


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v2/payments/create", API_MAX_BODY_BYTES),
        ("/v1/payments/sessions", API_MAX_BODY_BYTES),
        ("/api/v2/auth/test-user", API_MAX_BODY_BYTES),
        ("/no/such/route", API_MAX_BODY_BYTES),
        (WEBHOOK_PATH, WEBHOOK_MAX_BODY_BYTES),
        (TG_HOOK, WEBHOOK_MAX_BODY_BYTES),
    ],
)
async def test_a_declared_length_over_the_limit_is_refused_before_the_body(
    port: int, path: str, limit: int
) -> None:
    status, body = await _raw(port, _head(path, length=limit + 1))
    assert status == 413, body
    assert b"Request body too large" in body
    token = Tokens(JWT, 60).issue("12345", is_admin=True, now=datetime.now(UTC))
    status, _ = await _raw(port, _head(path, length=FLOOD_BYTES, token=token))
    assert status == 413


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v2/payments/create", API_MAX_BODY_BYTES),
        ("/v1/payments/sessions", API_MAX_BODY_BYTES),
        (WEBHOOK_PATH, WEBHOOK_MAX_BODY_BYTES),
        (TG_HOOK, WEBHOOK_MAX_BODY_BYTES),
    ],
)
async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    port: int, path: str, limit: int
) -> None:
    # Two chunks that together pass the limit by one byte; the body never ends.
    first = _chunk(limit // 2) + _chunk(limit - limit // 2 + 1)
    status, body = await _raw(port, _head(path), first)
    assert status == 413, body


async def test_bodies_within_the_limits_still_reach_the_routes(port: int) -> None:
    # 100 KiB is too much for the API but fine for a webhook, which then judges it itself.
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15) as client:
        big = b" " * (100 * 1024)
        assert (await client.post("/api/v2/payments/create", content=big)).status_code == 413
        hook = await client.post(WEBHOOK_PATH, content=big)
        assert hook.status_code == 400, hook.text  # not a notification: parsed, not refused
        telegram_hook = await client.post(TG_HOOK, content=_chunks(big))
        assert telegram_hook.status_code == 401  # read as far as its secret check
        small = await client.post("/api/v2/payments/create", content=b" " * 1000)
        assert small.status_code == 401  # the API's own answer: no token
