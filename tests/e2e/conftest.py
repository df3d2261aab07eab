"""The app composed exactly as main.py composes it, against local Telegram and YooKassa."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller
from redis.asyncio import Redis

from main import Service, build
from settings import Settings
from tests.conftest import MovableClock, worker_index
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.yookassa_api import FakeYooKassa

ADMIN_ID = 900_001
REDIS_DATABASES = 16  # redis-server's default `databases`


def _worker_redis(url: str | None) -> str | None:
    """Give each xdist worker a Redis database of its own, so one worker's flush spares the rest."""
    if url is None:
        return None
    index = worker_index()
    assert index < REDIS_DATABASES, f"Redis has {REDIS_DATABASES} databases: use fewer workers"
    return urlunsplit(urlsplit(url)._replace(path=f"/{index}"))


# The PostgreSQL run also gives a Redis: the bot's FSM state then lives there, as in production.
REDIS_URL = _worker_redis(os.environ.get("TEST_REDIS_URL"))


@dataclass
class Shop:
    """A running service with its fakes."""

    service: Service
    telegram: FakeTelegramAPI
    yookassa: FakeYooKassa
    settings: Settings


ShopFactory = Callable[..., Awaitable[Shop]]


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramAPI]:
    """Provide the local Bot API server."""
    async with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
async def yookassa() -> AsyncIterator[FakeYooKassa]:
    """Provide the local YooKassa API."""
    async with FakeYooKassa(shop_id="123456", secret_key="test_secret") as fake:
        fake.redelivery_delays = [0.2, 0.5]
        yield fake


@pytest.fixture(autouse=True)
async def _clean_redis() -> None:
    """Start every test with an empty Redis (FSM state and update ledger)."""
    if REDIS_URL:
        client = Redis.from_url(REDIS_URL)
        try:
            await client.flushdb()
        finally:
            await client.aclose()


@pytest.fixture
async def make_shop(
    make_settings: Callable[..., Settings],
    telegram: FakeTelegramAPI,
    yookassa: FakeYooKassa,
) -> AsyncIterator[ShopFactory]:
    """Build and start the service; stop it after the test."""
    started: list[Service] = []

    async def factory(
        *, sandbox: bool = False, clock: MovableClock | None = None, **overrides: Any
    ) -> Shop:
        values: dict[str, Any] = {
            "BOT_TOKEN": telegram.token,
            "TELEGRAM_API_BASE": telegram.base_url,
            "ADMIN_IDS": str(ADMIN_ID),
            "YOOKASSA_TRUSTED_NETWORKS": "127.0.0.0/8,::1",
            "YOOKASSA_TIMEOUT_SECONDS": 5,
        }
        if not sandbox:
            values.update(
                YOOKASSA_SHOP_ID=yookassa.shop_id,
                YOOKASSA_SECRET_KEY=yookassa.secret_key,
                YOOKASSA_API_URL=yookassa.api_url,
            )
        if REDIS_URL and "REDIS_URL" not in overrides:
            values["REDIS_URL"] = REDIS_URL
        values.update(overrides)
        settings = make_settings(**values)
        service = await build(settings, clock=clock)
        await service.start()
        started.append(service)
        yookassa.notification_url = f"{service.base_url}/api/v2/payments/webhook/yookassa"
        return Shop(service=service, telegram=telegram, yookassa=yookassa, settings=settings)

    yield factory
    for service in started:
        await service.stop()


class MailBox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        """Start empty."""
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        """Store the message."""
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, MailBox]]:
    """Run a real SMTP server (aiosmtpd) on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()
