"""The bot at work: its Dispatcher, long polling or the webhook, and how it drains on stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import DisabledEventIsolation
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import BudgetMiddleware, create_dispatcher
from bot.fsm_cache import LockedCacheStorage
from bot.isolation import LocalFirstIsolation
from bot.notifier import TelegramNotifier
from bot.outbox_delivery import TelegramDelivery
from bot.webhook import TelegramWebhook, UpdateLedger, register, webhook_path, webhook_secret
from bot.webhook import setup as webhook_setup
from payments.catalog import Catalog
from payments.loop_turns import Crowd
from payments.outbox.lane import SendingLane
from payments.outbox.notes import note_deliverers
from payments.ports import Clock, CustomerNotifier, LogNotifier
from payments.shutdown import SETTLE_SECONDS, cancel_all

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.fsm_redis import BatchedRedisStorage

log = logging.getLogger(__name__)

POLLING_RESTART_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """The plain values the bot part is built from."""

    api_base: str
    # None: FSM state in memory, one instance; set: in Redis, shared by every instance.
    redis_url: str | None
    # None: long polling; set: Telegram posts updates to this URL.
    webhook_url: str | None
    webhook_secret: SecretStr | None
    admin_ids: frozenset[int]
    test_ids: frozenset[str]
    # The Mini App's public address (the menu button and /start open it); None: no Mini App.
    webapp_url: str | None = None
    # Gate staff: /checkin only.
    staff_ids: frozenset[int] = frozenset()


class Telegram:
    """Takes updates (long polling, or the webhook), hands them to the Dispatcher, drains them."""

    def __init__(
        self,
        *,
        bot: Bot,
        dispatcher: Dispatcher,
        storage: BaseStorage | None,
        webhook: TelegramWebhook | None,
        webhook_url: str | None,
    ) -> None:
        """Keep the bot's parts; webhook mode when `webhook` is given, else long polling."""
        self.bot = bot
        self.dispatcher = dispatcher
        self.storage = storage
        self.webhook = webhook
        self._webhook_url = webhook_url or ""
        self._stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self._stop_asked: asyncio.Task[None] | None = None

    def setup(self, app: FastAPI) -> None:
        """Add the route Telegram posts updates to (webhook mode only)."""
        if self.webhook is not None:
            webhook_setup(app, self.webhook, webhook_path(self._webhook_url))

    async def start(self) -> None:
        """Start long polling, or point Telegram at the webhook."""
        if self.webhook is None:
            self.tasks.append(asyncio.create_task(self._poll(), name="polling"))
            return
        try:
            # As start_polling does: the start-up hooks see the Dispatcher's data too.
            await self.dispatcher.emit_startup(
                bot=self.bot, dispatcher=self.dispatcher, **self.dispatcher.workflow_data
            )
            await register(self.bot, self.dispatcher, self._webhook_url, self.webhook.secret)
        except Exception as exc:  # Telegram unreachable at start: updates arrive once it is back
            log.warning("bot: could not register the webhook yet (%s)", exc)

    async def _poll(self) -> None:
        """Run long polling, restarting it if it dies (Telegram down at start, say)."""
        while not self._stopping.is_set():
            try:
                await self.dispatcher.start_polling(
                    self.bot, handle_signals=False, close_bot_session=False
                )
            except Exception as exc:  # keep the bot alive whatever happened
                log.warning("bot: polling stopped (%s); retrying shortly", exc)
            if not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), POLLING_RESTART_SECONDS)

    async def stop_taking(self) -> None:
        """Take no new updates (stop polling; the HTTP gate refuses webhook posts).

        Polling is asked to stop and not waited for here: aiogram's stop_polling waits for a
        signal its start_polling never sets when the start-up hooks fail (Telegram unreachable
        or failing as the service starts), which hung the stop for good. The polling task ends
        by itself once asked (our loop sees `_stopping`), and stop() gives it the grace.
        """
        self._stopping.set()
        if self.webhook is None and self._stop_asked is None:
            self._stop_asked = asyncio.create_task(self._ask_polling_to_stop(), name="stop-polling")

    async def _ask_polling_to_stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # not polling (yet): our loop will not start it
            await self.dispatcher.stop_polling()

    async def drain(self, deadline: float) -> None:
        """Let the updates in hand finish by `deadline` (loop time), then cancel them."""
        remaining = deadline - asyncio.get_running_loop().time()
        if self.webhook is not None:
            await self.webhook.drain(remaining)
            return
        # aiogram keeps the tasks of polled updates being handled here.
        handling: set[asyncio.Task[Any]] = self.dispatcher._handle_update_tasks  # noqa: SLF001
        if handling:
            await asyncio.wait(set(handling), timeout=max(remaining, 0))
        await cancel_all(handling, SETTLE_SECONDS)

    async def close(self) -> None:
        """Close the Bot API session and the FSM storage."""
        if self._stop_asked is not None and not self._stop_asked.done():
            await cancel_all({self._stop_asked}, SETTLE_SECONDS)
        await self.bot.session.close()
        if self.storage is not None:
            await self.storage.close()


def create_notifier(
    bot: Bot | None,
    *,
    catalog: Catalog,
    tz: ZoneInfo,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> CustomerNotifier:
    """Tell customers through the bot, or (no bot) only log what they would have been told."""
    if bot is None:
        return LogNotifier()
    return TelegramNotifier(bot=bot, catalog=catalog, tz=tz, sessionmaker=sessionmaker)


def register_deliverers(
    lane: SendingLane,
    bot: Bot | None,
    *,
    catalog: Catalog,
    tz: ZoneInfo,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Deliver the outbox's notes through the bot, or (no bot) only log them as sent.

    With a bot, every message it sends or edits is charged to the lane's budget, one for the
    whole instance: the lane's rows wait for tokens, direct answers to customers take the next
    token ahead of a broadcast (0.15 s at most) or go at once, counted (`Budget.answer`).
    """
    if bot is None:
        deliverers = note_deliverers(LogNotifier())
    else:
        bot.session.middleware(BudgetMiddleware(lane.budget))
        delivery = TelegramDelivery(bot=bot, catalog=catalog, tz=tz, sessionmaker=sessionmaker)
        deliverers = delivery.deliverers()
    for kind, deliver in deliverers.items():
        lane.register(kind, deliver)


# Redis connections one instance may hold at once, unless REDIS_URL says otherwise
# (`?max_connections=`), and how long an update waits for a free one before it fails.
REDIS_MAX_CONNECTIONS = 100
REDIS_POOL_WAIT_SECONDS = 20.0


def redis_fsm_storage(url: str) -> BatchedRedisStorage:
    """Return aiogram's Redis storage (batched) over a pool that makes a caller wait.

    aiogram's `RedisStorage.from_url` uses redis-py's plain pool, which raises "Too many
    connections" the moment all of them are in use. In a sale rush (2 000 customers, the loop
    busy) that failed updates outright, some while releasing a user's lock, so that user's next
    update waited out the lock's 60 s. A blocking pool queues the caller instead.
    """
    # Imported only when configured: the Redis client costs start-up time and memory.
    from redis.asyncio import BlockingConnectionPool, Redis

    from bot.fsm_redis import BatchedRedisStorage

    pool = BlockingConnectionPool.from_url(
        url, max_connections=REDIS_MAX_CONNECTIONS, timeout=REDIS_POOL_WAIT_SECONDS
    )
    return BatchedRedisStorage(
        redis=Redis(connection_pool=pool), key_builder=DefaultKeyBuilder(with_bot_id=True)
    )


def create_telegram(
    bot: Bot,
    config: TelegramConfig,
    *,
    routers: list[Router],
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    crowd: Crowd | None = None,
    **services: Any,
) -> Telegram:
    """Create the Dispatcher (the services are the handlers' keyword arguments) and its intake;
    each update counts in `crowd` while it is handled (payments/loop_turns.py)."""
    storage: BaseStorage | None = None
    isolation: BaseEventIsolation | None = None
    redis: Redis | None = None
    if config.redis_url:
        redis_storage = redis_fsm_storage(config.redis_url)
        cached = LockedCacheStorage(redis_storage)
        storage = cached
        # With long polling this process is the only one Telegram hands updates to (a second
        # getUpdates is refused with 409 Conflict, and a webhook turns polling off), so the
        # in-process lock already handles a user's updates one at a time; the lock in Redis
        # would cost each update two more round trips (SET NX, then the release script).
        shared = (
            redis_storage.create_isolation() if config.webhook_url else DisabledEventIsolation()
        )
        isolation = LocalFirstIsolation(shared, cache=cached)
        redis = redis_storage.redis
        log.info(
            "bot: FSM state in Redis, with per-user event isolation %s",
            "across instances" if config.webhook_url else "in this process (long polling)",
        )
    dispatcher = create_dispatcher(
        storage=storage,
        isolation=isolation,
        routers=routers,
        sessionmaker=sessionmaker,
        clock=clock,
        admin_ids=config.admin_ids,
        test_ids=config.test_ids,
        webapp_url=config.webapp_url,
        staff_ids=config.staff_ids,
        crowd=crowd,
        **services,
    )
    webhook: TelegramWebhook | None = None
    if config.webhook_url:
        webhook = TelegramWebhook(
            dispatcher=dispatcher,
            bot=bot,
            secret=webhook_secret(config.webhook_secret, bot.token),
            ledger=UpdateLedger(redis, bot.id),
        )
        log.info(
            "bot: ON, webhook mode at %s (served on %s)",
            config.webhook_url,
            webhook_path(config.webhook_url),
        )
    else:
        log.info("bot: ON, long polling through %s", config.api_base)
    return Telegram(
        bot=bot,
        dispatcher=dispatcher,
        storage=storage,
        webhook=webhook,
        webhook_url=config.webhook_url,
    )
