"""Composition root: settings → database → payments → bot (if a token) → HTTP → scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.broadcast import Broadcasts
from bot.factory import create_bot, create_dispatcher
from bot.notifier import TelegramNotifier
from bot.webhook import TelegramWebhook, UpdateLedger, webhook_path, webhook_secret
from bot.webhook import register as register_webhook
from bot.webhook import setup as telegram_webhook_setup
from db.engine import create_engine, create_sessionmaker, describe
from db.migrate import upgrade
from db.reader import Reader
from handlers import get_routers
from payments.account import Account
from payments.admin.console import create_admin_console
from payments.api.app import create_app
from payments.api.auth import Tokens
from payments.api.context import ApiContext
from payments.api.health import DatabaseCheck, watch_database
from payments.api.routes import setup as api_setup
from payments.catalog import Catalog, CatalogError, load_catalog
from payments.checkout.draft import CheckoutConfig
from payments.checkout.flow import Checkout
from payments.fulfilment import Fulfilment
from payments.jobs import Jobs
from payments.log_filters import ACCESS_LOGGER, RedactSecrets, hide_auth_queries
from payments.mailer import NoMailer, SmtpConfig, SmtpMailer
from payments.ports import Clock, CustomerNotifier, LogNotifier, Mailer, SystemClock
from payments.sessions import Sessions
from payments.shutdown import HttpGate, JobWatch, cancel_all
from payments.tickets.rules import Availability, TicketRules
from payments.yookassa.gateway import THREAD_PREFIX as GATEWAY_THREADS
from payments.yookassa.gateway import YooKassaGateway
from payments.yookassa.sandbox.api import SandboxYooKassa
from payments.yookassa.sandbox.api import setup as sandbox_setup
from payments.yookassa.sandbox.wire import SANDBOX_SECRET_KEY, SANDBOX_SHOP_ID
from payments.yookassa.webhook import WEBHOOK_PATH, WebhookHandler
from payments.yookassa.webhook import setup as webhook_setup
from settings import ConfigError, Settings, load_settings

log = logging.getLogger("zooticket")

# After the grace: how long cut-short work gets to let go (release seats) before the exit.
SETTLE_SECONDS = 5.0
POLLING_RESTART_SECONDS = 5.0


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(settings: Settings) -> None:
    """Configure the root logger from LOG_LEVEL and LOG_FORMAT."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.LOG_FORMAT == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(settings.secret_values()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.LOG_LEVEL)
    # aiogram logs every handled update at INFO; keep it for DEBUG runs.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: main() owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave signals to the composition root."""
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the HTTP socket up front so a busy port is a clear configuration error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"HTTP_PORT: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


@dataclass
class Service:
    """The running service: every part main() starts and stops."""

    settings: Settings
    catalog: Catalog
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    reader: Reader
    app: FastAPI
    scheduler: AsyncIOScheduler
    gateway: YooKassaGateway
    checkout: Checkout
    fulfilment: Fulfilment
    jobs: Jobs
    sandbox: SandboxYooKassa | None = None
    bot: Bot | None = None
    dispatcher: Dispatcher | None = None
    webhook: TelegramWebhook | None = None
    storage: BaseStorage | None = None
    _socket: socket.socket | None = None
    _server: _Server | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _gate: HttpGate | None = None
    _job_watch: JobWatch | None = None

    @property
    def port(self) -> int:
        """Return the bound HTTP port (useful with HTTP_PORT=0)."""
        assert self._socket is not None, "service not started"  # noqa: S101
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        """Return the loopback URL of the HTTP server."""
        return f"http://{self.settings.HTTP_HOST}:{self.port}"

    async def start(self) -> None:
        """Start HTTP, then the bot and the scheduler."""
        assert self._socket is not None  # noqa: S101 - bound by build()
        access_log = self.settings.LOG_LEVEL == "DEBUG"
        hide_auth_queries()
        if access_log:  # a Config without it (an earlier service in this process) cut it off
            logging.getLogger(ACCESS_LOGGER).propagate = True
        self._gate = HttpGate(self.app)
        config = uvicorn.Config(
            self._gate,
            log_config=None,
            access_log=access_log,
            lifespan="off",
            timeout_graceful_shutdown=self.settings.SHUTDOWN_GRACE_SECONDS,
            # Callers' addresses come from payments.webhook.client_address and TRUSTED_PROXIES
            # alone: uvicorn would believe X-Forwarded-For from loopback whatever they say.
            proxy_headers=False,
        )
        self._server = _Server(config)
        self._tasks.append(asyncio.create_task(self._server.serve([self._socket]), name="http"))
        log.info("http: listening on %s", self.base_url)
        if self.bot is not None and self.dispatcher is not None:
            if self.webhook is None:
                self._tasks.append(asyncio.create_task(self._poll(), name="polling"))
            else:
                await self._start_webhook()
        self._job_watch = JobWatch(self.scheduler)
        self.scheduler.start()
        log.info("scheduler: started with %d jobs", len(self.scheduler.get_jobs()))

    async def _start_webhook(self) -> None:
        """Run the startup hooks and point Telegram at this service (each instance may do it)."""
        assert self.bot is not None  # noqa: S101
        assert self.dispatcher is not None  # noqa: S101
        assert self.webhook is not None  # noqa: S101
        url = self.settings.TELEGRAM_WEBHOOK_URL or ""
        try:
            await self.dispatcher.emit_startup(bot=self.bot, dispatcher=self.dispatcher)
            await register_webhook(self.bot, self.dispatcher, url, self.webhook.secret)
        except Exception as exc:  # Telegram unreachable at start: updates arrive once it is back
            log.warning("bot: could not register the webhook yet (%s)", exc)

    async def _poll(self) -> None:
        """Run long polling, restarting it if it dies (Telegram down at start, say)."""
        assert self.bot is not None  # noqa: S101
        assert self.dispatcher is not None  # noqa: S101
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

    async def _drain_updates(self, deadline: float) -> None:
        """Let the bot's updates in hand finish by the deadline, then cancel them."""
        remaining = deadline - asyncio.get_running_loop().time()
        if self.webhook is not None:
            await self.webhook.drain(remaining)
        elif self.dispatcher is not None:
            # aiogram keeps the tasks of polled updates being handled here.
            handling: set[asyncio.Task[Any]] = self.dispatcher._handle_update_tasks  # noqa: SLF001
            if handling:
                await asyncio.wait(set(handling), timeout=max(remaining, 0))
            await cancel_all(handling, SETTLE_SECONDS)

    async def _drain_jobs(self, deadline: float) -> None:
        """Let running scheduler jobs finish by the deadline, then cancel them."""
        if not self.scheduler.running:
            return
        watch = self._job_watch
        if watch is not None and watch.running:
            log.info("draining: %d scheduler job(s) running", watch.running)
            await watch.wait_idle(deadline - asyncio.get_running_loop().time())
        self.scheduler.shutdown(wait=False)  # cancels the jobs still running
        if watch is not None:
            await watch.wait_idle(SETTLE_SECONDS)

    async def stop(self) -> None:
        """Drain: take no new requests or updates, give work in flight the grace, then cancel.

        Everything shares one deadline, SHUTDOWN_GRACE_SECONDS from now: HTTP requests
        (uvicorn stops accepting and cancels what is left at the deadline; the gate answers
        those 503), webhook and polling updates, scheduler jobs. Cancelled work gets
        SETTLE_SECONDS more to let go of what it holds (a cut-short checkout releases its
        seats) before the database closes.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.SHUTDOWN_GRACE_SECONDS
        self._stopping.set()
        if self._gate is not None:
            self._gate.close()
            log.info("draining: %d request(s) in flight", self._gate.in_flight)
        if self.dispatcher is not None and self.webhook is None:
            with contextlib.suppress(RuntimeError):  # not polling (yet)
                await self.dispatcher.stop_polling()
        if self.scheduler.running:
            self.scheduler.pause()
        if self._server is not None:
            self._server.should_exit = True
        await asyncio.gather(
            self._drain_updates(deadline),
            self._drain_jobs(deadline),
        )
        if self._tasks:
            # uvicorn cancels its requests at the deadline itself; this is a second guard.
            _done, pending = await asyncio.wait(
                self._tasks, timeout=max(deadline - loop.time(), 0) + SETTLE_SECONDS
            )
            await cancel_all(set(pending))
        if self._gate is not None and not await self._gate.wait_idle(SETTLE_SECONDS):
            log.warning("draining: %d request(s) did not unwind", self._gate.in_flight)
        await self.checkout.settle(SETTLE_SECONDS)
        if self.sandbox is not None:
            await self.sandbox.close()
        await self.gateway.close()
        if self.bot is not None:
            await self.bot.session.close()
        if self.storage is not None:
            await self.storage.close()
        if self._socket is not None:
            self._socket.close()
        self.reader.close()
        await self.engine.dispose()
        log.info("stopped")


LOOPBACK = ("127.0.0.0/8", "::1/128")


def _internal_base(settings: Settings, port: int) -> str:
    """Return how this process reaches its own HTTP server."""
    host = settings.HTTP_HOST
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - we only read the bind address here
        host = "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


async def build(settings: Settings, *, clock: Clock | None = None) -> Service:
    """Compose the service from settings: the same wiring for `python main.py` and e2e tests."""
    clock = clock or SystemClock()
    catalog = load_catalog(settings.CATALOG_PATH)
    engine = create_engine(settings.DATABASE_URL)
    try:
        await upgrade(engine)
    except (OSError, SQLAlchemyError) as exc:
        await engine.dispose()
        reason = getattr(exc, "orig", None) or exc
        raise ConfigError(
            f"DATABASE_URL: cannot open {describe(settings.DATABASE_URL)}: {reason}"
        ) from None
    log.info("database: %s, schema at head", describe(settings.DATABASE_URL))
    sessionmaker = create_sessionmaker(engine)
    reader = Reader(engine)
    sock = bind_socket(settings.HTTP_HOST, settings.HTTP_PORT)
    internal = _internal_base(settings, int(sock.getsockname()[1]))
    # An unset PUBLIC_BASE_URL follows the port really bound (HTTP_PORT=0 in tests, say).
    public = (
        settings.PUBLIC_BASE_URL if "PUBLIC_BASE_URL" in settings.model_fields_set else internal
    )

    app = create_app(sandbox=settings.sandbox, docs=settings.api_docs)
    watch_database(app, DatabaseCheck(engine))
    trusted = list(settings.YOOKASSA_TRUSTED_NETWORKS)
    sandbox: SandboxYooKassa | None = None
    if settings.sandbox:
        sandbox = SandboxYooKassa(public_base_url=public, webhook_url=f"{internal}{WEBHOOK_PATH}")
        sandbox_setup(app, sandbox)
        gateway = YooKassaGateway(
            shop_id=SANDBOX_SHOP_ID,
            secret_key=SANDBOX_SECRET_KEY,
            api_url=f"{internal}{SandboxYooKassa.api_path}",
            timeout=settings.YOOKASSA_TIMEOUT_SECONDS,
        )
        # The sandbox notifies from this machine; its payments are re-fetched like any other.
        trusted += [ipaddress.ip_network(net) for net in LOOPBACK]
        log.warning(
            "payments: SANDBOX mode (YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY are unset): no real "
            "money moves; checkout pages are served under %s/sandbox/checkout/",
            public,
        )
    else:
        assert settings.YOOKASSA_SHOP_ID is not None  # noqa: S101 - not sandbox
        assert settings.YOOKASSA_SECRET_KEY is not None  # noqa: S101
        gateway = YooKassaGateway(
            shop_id=settings.YOOKASSA_SHOP_ID,
            secret_key=settings.YOOKASSA_SECRET_KEY.get_secret_value(),
            api_url=settings.YOOKASSA_API_URL,
            timeout=settings.YOOKASSA_TIMEOUT_SECONDS,
        )
        log.info(
            "payments: live YooKassa shop %s via %s",
            settings.YOOKASSA_SHOP_ID,
            settings.YOOKASSA_API_URL,
        )
    if settings.jwt_secret_generated:
        log.info("api: JWT_SECRET is unset; using a random secret for this process")

    bot: Bot | None = None
    notifier: CustomerNotifier = LogNotifier()
    if settings.BOT_TOKEN is not None:
        bot = create_bot(settings.BOT_TOKEN.get_secret_value(), settings.TELEGRAM_API_BASE)
        notifier = TelegramNotifier(
            bot=bot, catalog=catalog, tz=settings.tz, sessionmaker=sessionmaker
        )
    mailer: Mailer = NoMailer()
    if settings.SMTP_HOST is not None:
        mailer = SmtpMailer(
            SmtpConfig(
                host=settings.SMTP_HOST,
                port=settings.SMTP_PORT,
                sender=settings.SMTP_FROM or f"tickets@{settings.RECEIPT_FALLBACK_EMAIL_DOMAIN}",
                user=settings.SMTP_USER,
                password=settings.SMTP_PASSWORD.get_secret_value()
                if settings.SMTP_PASSWORD
                else None,
                starttls=settings.SMTP_TLS,
            )
        )
        log.info("e-mail: tickets are sent through %s:%s", settings.SMTP_HOST, settings.SMTP_PORT)
    else:
        log.info("e-mail: off (SMTP_HOST is unset); tickets arrive in the chat only")
    checkout = Checkout(
        tz=settings.tz,
        sessionmaker=sessionmaker,
        gateway=gateway,
        catalog=catalog,
        clock=clock,
        config=CheckoutConfig(
            sandbox=settings.sandbox,
            ttl_minutes=settings.PAYMENT_TTL_MINUTES,
            pending_limit=settings.PENDING_PAYMENTS_LIMIT,
            pending_window_minutes=settings.PENDING_PAYMENTS_WINDOW_MINUTES,
            fallback_email_domain=settings.RECEIPT_FALLBACK_EMAIL_DOMAIN,
            test_user_ids=frozenset(settings.TEST_USER_IDS),
        ),
    )
    fulfilment = Fulfilment(
        sessionmaker=sessionmaker,
        gateway=gateway,
        notifier=notifier,
        mailer=mailer,
        catalog=catalog,
        clock=clock,
        reader=reader,
    )
    account = Account(sessionmaker=sessionmaker, reader=reader, clock=clock, tz=settings.tz)
    admin = create_admin_console(
        sessionmaker=sessionmaker,
        gateway=gateway,
        notifier=notifier,
        catalog=catalog,
        clock=clock,
        tz=settings.tz,
        test_user_ids=frozenset(settings.TEST_USER_IDS),
        fallback_email_domain=settings.RECEIPT_FALLBACK_EMAIL_DOMAIN,
    )
    jobs = Jobs(
        sessionmaker=sessionmaker,
        gateway=gateway,
        fulfilment=fulfilment,
        notifier=notifier,
        clock=clock,
    )
    api_setup(
        app,
        ApiContext(
            sessionmaker=sessionmaker,
            checkout=checkout,
            fulfilment=fulfilment,
            sessions=Sessions(
                sessionmaker=sessionmaker,
                gateway=gateway,
                catalog=catalog,
                clock=clock,
                fallback_email_domain=settings.RECEIPT_FALLBACK_EMAIL_DOMAIN,
            ),
            rules=TicketRules(catalog, settings.tz),
            catalog=catalog,
            clock=clock,
            tokens=Tokens(settings.JWT_SECRET.get_secret_value(), settings.JWT_TTL_MINUTES)
            if settings.JWT_SECRET
            else Tokens(secrets.token_urlsafe(48), settings.JWT_TTL_MINUTES),
            bot_token=settings.BOT_TOKEN.get_secret_value() if settings.BOT_TOKEN else None,
            init_data_max_age=settings.INIT_DATA_MAX_AGE_SECONDS,
            admin_ids=frozenset(settings.ADMIN_IDS),
            test_user_ids=frozenset(settings.TEST_USER_IDS),
            allow_test_users=settings.sandbox,
        ),
    )
    webhook_setup(
        app,
        WebhookHandler(
            gateway=gateway,
            fulfilment=fulfilment,
            trusted_networks=trusted,
            trusted_proxies=settings.TRUSTED_PROXIES,
            refunds=admin.settlement,
        ),
    )
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job, seconds in (
        (jobs.expire, 30),
        (jobs.reconcile, 60),
        (jobs.lapse, 300),
        (jobs.remind, 600),
        (jobs.recheck_abandoned, 600),
    ):
        scheduler.add_job(
            job, "interval", seconds=seconds, id=job.__name__, coalesce=True, max_instances=1
        )

    service = Service(
        settings=settings,
        catalog=catalog,
        clock=clock,
        engine=engine,
        sessionmaker=sessionmaker,
        reader=reader,
        app=app,
        scheduler=scheduler,
        gateway=gateway,
        checkout=checkout,
        fulfilment=fulfilment,
        jobs=jobs,
        sandbox=sandbox,
        bot=bot,
        _socket=sock,
    )
    if bot is None:
        log.warning("bot: OFF because BOT_TOKEN is unset; the HTTP API and scheduler still run")
    else:
        isolation: BaseEventIsolation | None = None
        if settings.REDIS_URL:
            redis_storage = RedisStorage.from_url(
                settings.REDIS_URL, key_builder=DefaultKeyBuilder(with_bot_id=True)
            )
            service.storage = redis_storage
            isolation = redis_storage.create_isolation()
            log.info("bot: FSM state in Redis, with per-user event isolation across instances")
        service.dispatcher = create_dispatcher(
            storage=service.storage,
            isolation=isolation,
            routers=get_routers(),
            sessionmaker=sessionmaker,
            clock=clock,
            admin_ids=frozenset(settings.ADMIN_IDS),
            test_ids=frozenset(settings.TEST_USER_IDS),
            catalog=catalog,
            settings=settings,
            checkout=checkout,
            account=account,
            rules=TicketRules(catalog, settings.tz),
            notifier=notifier,
            availability=Availability(reader=reader, catalog=catalog),
            admin=admin,
            broadcasts=Broadcasts(bot=bot, broadcaster=admin.broadcaster),
        )
        if settings.TELEGRAM_WEBHOOK_URL:
            redis = service.storage.redis if isinstance(service.storage, RedisStorage) else None
            service.webhook = TelegramWebhook(
                dispatcher=service.dispatcher,
                bot=bot,
                secret=webhook_secret(settings.TELEGRAM_WEBHOOK_SECRET, bot.token),
                ledger=UpdateLedger(redis, bot.id),
            )
            path = webhook_path(settings.TELEGRAM_WEBHOOK_URL)
            telegram_webhook_setup(app, service.webhook, path)
            log.info(
                "bot: ON, webhook mode at %s (served on %s)", settings.TELEGRAM_WEBHOOK_URL, path
            )
        else:
            log.info("bot: ON, long polling through %s", settings.TELEGRAM_API_BASE)
    return service


def settle_heap() -> None:
    """Move everything alive after start-up out of the garbage collector's sight.

    The libraries leave about 320 000 objects behind at import (aiogram's models and their
    pydantic schemas, SQLAlchemy's mappers), and every full collection walked all of them:
    `make bench` measured that as a quarter of the cost of a bot update. They live as long as
    the process does, so `gc.freeze()` after one collection keeps full collections to the
    objects made while serving. The entry point calls this once; tests, which build many
    services in one process, do not.
    """
    gc.collect()
    gc.freeze()


async def run(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop gracefully."""
    service = await build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    settle_heap()
    try:
        await stop.wait()
        log.info("stopping on signal")
    finally:
        await service.stop()


def leave_stuck_calls() -> None:
    """Exit at once if YooKassa calls cut short at shutdown still hold their threads.

    Python joins every worker thread before it exits, and a call stuck on the network keeps
    its thread until its own timeout (YOOKASSA_TIMEOUT_SECONDS), long past the grace. Their
    checkouts are canceled already and the service is stopped: nothing waits for them.
    """
    deadline = time.monotonic() + 0.5  # idle workers leave the pool at once
    stuck = []
    for thread in threading.enumerate():
        if thread.name.startswith(GATEWAY_THREADS):
            thread.join(max(deadline - time.monotonic(), 0))
            if thread.is_alive():
                stuck.append(thread)
    if stuck:
        log.warning("exiting without waiting for %d YooKassa call(s) cut short", len(stuck))
        logging.shutdown()
        os._exit(0)


def main() -> int:
    """Start the service; print one line and exit 2 on bad configuration."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    setup_logging(settings)
    try:
        asyncio.run(run(settings))
    except (ConfigError, CatalogError) as exc:
        log.critical("configuration error: %s", exc)
        return 2
    leave_stuck_calls()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
