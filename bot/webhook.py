"""Telegram webhook mode on the service's own HTTP app (several instances behind a balancer)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import SecretStr

from payments.api.limits import WEBHOOK_MAX_BODY_BYTES, allow_body
from payments.shutdown import cancel_all

if TYPE_CHECKING:  # the Redis client is imported only when REDIS_URL is set (bot/runner.py)
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
RECENT_UPDATES = 10_000
_DERIVATION_LABEL = b"zooticket-bot telegram webhook secret v1"


def derive_secret(bot_token: str) -> str:
    """Return a webhook secret made from the bot token: the same on every instance.

    HMAC-SHA256 keyed with the token over a fixed label, in hex (64 characters Telegram
    accepts). Nobody without the token can compute it, and whoever has the token controls the
    bot anyway.
    """
    return hmac.new(bot_token.encode(), _DERIVATION_LABEL, hashlib.sha256).hexdigest()


def webhook_secret(configured: SecretStr | None, bot_token: str) -> str:
    """Return TELEGRAM_WEBHOOK_SECRET, or a secret derived from the token when it is unset."""
    if configured is not None:
        return configured.get_secret_value()
    log.info("bot: TELEGRAM_WEBHOOK_SECRET is unset; using a secret derived from the bot token")
    return derive_secret(bot_token)


class UpdateLedger:
    """Remembers which update ids were taken, so each update is handled once.

    Telegram redelivers an update when an answer is slow, and a balancer may send the retry to
    another instance: with Redis the claim is shared (SET NX with a TTL), without it each
    instance remembers its own recent ids.
    """

    def __init__(self, redis: Redis | None, bot_id: int, ttl_seconds: int = 3600) -> None:
        """Use Redis when given, else memory."""
        self._redis = redis
        self._bot_id = bot_id
        self._ttl = ttl_seconds
        self._recent: OrderedDict[int, None] = OrderedDict()

    async def claim(self, update_id: int) -> bool:
        """Return True for the first caller with this update id, False for repeats."""
        if self._redis is not None:
            key = f"tg:update:{self._bot_id}:{update_id}"
            return bool(await self._redis.set(key, b"1", nx=True, ex=self._ttl))
        if update_id in self._recent:
            return False
        self._recent[update_id] = None
        while len(self._recent) > RECENT_UPDATES:
            self._recent.popitem(last=False)
        return True


class TelegramWebhook:
    """Accept updates from Telegram, check the secret, handle each update once."""

    def __init__(
        self, *, dispatcher: Dispatcher, bot: Bot, secret: str, ledger: UpdateLedger
    ) -> None:
        """Keep the dispatcher, the bot, the secret Telegram must send and the update ledger."""
        if not secret:
            raise ValueError("a Telegram webhook needs a secret")
        self._dispatcher = dispatcher
        self._bot = bot
        self._secret = secret
        self._ledger = ledger
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def secret(self) -> str:
        """Return the secret to hand to setWebhook (the one every update must carry)."""
        return self._secret

    async def handle(self, request: Request) -> Response:
        """Answer Telegram at once and handle the update in the background."""
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), self._secret.encode()):
            return JSONResponse({"ok": False, "description": "Unauthorized"}, status_code=401)
        try:
            # The session's reader: each inline keyboard the update carries is validated once.
            sent = self._bot.session.json_loads(await request.body())
            update = Update.model_validate(sent, context={"bot": self._bot})
        except (ValueError, RecursionError):  # not JSON (or nested past reading), not an update
            return JSONResponse({"ok": False, "description": "Not an update"}, status_code=400)
        if not await self._ledger.claim(update.update_id):
            return JSONResponse({"ok": True})
        task = asyncio.create_task(self._feed(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return JSONResponse({"ok": True})

    async def _feed(self, update: Update) -> None:
        try:
            await self._dispatcher.feed_update(self._bot, update)
        except Exception:
            log.exception("update %s failed", update.update_id)

    async def drain(self, seconds: float = 5.0) -> None:
        """Give updates still being handled `seconds` to finish (on shutdown), then cancel them."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=max(seconds, 0))
        await cancel_all(self._tasks)


def webhook_path(url: str) -> str:
    """Return the path part of TELEGRAM_WEBHOOK_URL that this app serves."""
    return urlparse(url).path or "/telegram/webhook"


def setup(app: FastAPI, webhook: TelegramWebhook, path: str) -> None:
    """Add the Telegram webhook route."""

    async def telegram_webhook(request: Request) -> Response:
        return await webhook.handle(request)

    app.add_api_route(path, telegram_webhook, methods=["POST"], include_in_schema=False)
    allow_body(app, path, WEBHOOK_MAX_BODY_BYTES)


async def register(bot: Bot, dispatcher: Dispatcher, url: str, secret: str) -> None:
    """Point Telegram at this service, asking only for the update types we handle."""
    await bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
        drop_pending_updates=False,
    )
