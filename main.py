"""Composition root: settings → database → payments → bot (if a token) → HTTP → scheduler.

Every part has a factory of its own that takes plain values; this module reads them from
Settings, hands them down, and starts and stops the parts in order (service.Service).
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # No garbage collection until the service has started: the imports and the build make some
    # 300 000 objects that live as long as the process, and every collection on the way walked
    # them (a quarter to a half of a second of start-up). settle_heap() freezes what start-up
    # made and turns the collector back on. Only `python main.py`; `import main` (tests,
    # benches) leaves the collector alone.
    gc.disable()
    # The settings are checked before the imports below: a bad configuration is told in one
    # line at once, not after the several CPU seconds aiogram, FastAPI and SQLAlchemy take.
    from settings import load_or_exit

    _checked = load_or_exit()

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from bot.broadcast import Broadcasts
from bot.factory import create_bot
from bot.runner import (
    Telegram,
    TelegramConfig,
    create_notifier,
    create_telegram,
    register_deliverers,
)
from bot.webapp import miniapp_url
from db.database import DatabaseUnavailable, create_database
from handlers import get_routers
from payments.api.metrics_http import METRICS_PATH, MetricsEndpoint
from payments.api.routes import ApiConfig, create_http_app
from payments.api.server import HttpServer, PortUnavailable
from payments.catalog import CatalogError, load_catalog
from payments.checkout.draft import CheckoutConfig
from payments.compose import PaymentsConfig, YooKassaAccount, create_payments
from payments.jobs import create_scheduler
from payments.logs import configure_logging
from payments.mailer import SmtpConfig
from payments.metrics import DatabaseGauges
from payments.ports import Clock, SystemClock
from payments.process import ImportSettler, settle_heap
from payments.subscriptions.outcomes import RenewalPolicy
from payments.subscriptions.renewal import RenewalConfig
from payments.tickets.signing import load_signer
from service import Service
from settings import ConfigError, Settings, load_or_exit

__all__ = ["Service", "build", "main", "settle_heap", "setup_logging"]

log = logging.getLogger("zooticket")


async def build(settings: Settings, *, clock: Clock | None = None) -> Service:
    """Compose the service from settings: the same wiring for `python main.py` and e2e tests."""
    clock = clock or SystemClock()
    catalog = load_catalog(settings.CATALOG_PATH)
    # ---- database (and the HTTP port, bound early) ----
    try:
        database = await create_database(
            settings.DATABASE_URL, pool_size=settings.DATABASE_POOL_SIZE
        )
        # Bound now: an unset PUBLIC_BASE_URL follows the port really bound (HTTP_PORT=0).
        http = HttpServer.bind(settings.HTTP_HOST, settings.HTTP_PORT)
    except DatabaseUnavailable as exc:
        raise ConfigError(f"DATABASE_URL: {exc}") from None
    except PortUnavailable as exc:
        raise ConfigError(f"HTTP_PORT: {exc}") from None
    sessionmaker, tz = database.sessionmaker, settings.tz
    metrics = _metrics_endpoint(settings, DatabaseGauges(database.reader))
    signer = await load_signer(sessionmaker, settings.ticket_signing_seed, clock.now())

    # ---- payments ----
    token = settings.BOT_TOKEN.get_secret_value() if settings.BOT_TOKEN else None
    # A Bot is a Bot API client: payments tell customers about their purchases through it.
    bot = create_bot(token, settings.TELEGRAM_API_BASE) if token else None
    notifier = create_notifier(bot, catalog=catalog, tz=tz, sessionmaker=sessionmaker)

    payments = create_payments(
        _payments_config(settings, http),
        sessionmaker=sessionmaker,
        reader=database.reader,
        catalog=catalog,
        clock=clock,
        signer=signer,
    )
    # Every message to customers goes through the outbox; the lane says them through the bot.
    register_deliverers(payments.outbox, bot, catalog=catalog, tz=tz, sessionmaker=sessionmaker)

    # ---- bot ----
    telegram: Telegram | None = None
    broadcasts: Broadcasts | None = None
    if bot is None:
        log.warning("bot: OFF because BOT_TOKEN is unset; the HTTP API and scheduler still run")
    else:
        broadcasts = Broadcasts(bot=bot, broadcaster=payments.admin.broadcaster)
        broadcasts.register(payments.outbox)
        config = TelegramConfig(
            api_base=settings.TELEGRAM_API_BASE,
            redis_url=settings.REDIS_URL,
            webhook_url=settings.TELEGRAM_WEBHOOK_URL,
            webhook_secret=settings.TELEGRAM_WEBHOOK_SECRET,
            admin_ids=frozenset(settings.ADMIN_IDS),
            test_ids=frozenset(settings.TEST_USER_IDS),
            webapp_url=miniapp_url(_public_base_url(settings, http)),
            staff_ids=frozenset(settings.STAFF_IDS),
        )
        telegram = create_telegram(
            bot,
            config,
            routers=get_routers(),
            sessionmaker=sessionmaker,
            clock=clock,
            crowd=payments.crowd,
            # What the handlers take by keyword (aiogram's DI):
            catalog=catalog,
            settings=settings,
            checkout=payments.checkout,
            account=payments.account,
            rules=payments.rules,
            notifier=notifier,
            availability=payments.availability,
            admin=payments.admin,
            stars=payments.stars,
            auto_renewal=payments.auto_renewal,
            broadcasts=broadcasts,
        )

    # ---- HTTP ----
    if settings.jwt_secret_generated:
        log.info("api: JWT_SECRET is unset; using a random secret for this process")
    api = ApiConfig(
        docs=settings.api_docs,
        jwt_secret=settings.JWT_SECRET.get_secret_value() if settings.JWT_SECRET else None,
        jwt_ttl_minutes=settings.JWT_TTL_MINUTES,
        bot_token=token,
        init_data_max_age=settings.INIT_DATA_MAX_AGE_SECONDS,
        admin_ids=frozenset(settings.ADMIN_IDS),
        staff_ids=frozenset(settings.STAFF_IDS),
        test_user_ids=frozenset(settings.TEST_USER_IDS),
    )
    app = create_http_app(
        api,
        payments=payments,
        engine=database.engine,
        sessionmaker=sessionmaker,
        catalog=catalog,
        clock=clock,
    )
    if telegram is not None:
        telegram.setup(app)  # Telegram's webhook route, in webhook mode
    if metrics is not None and settings.METRICS_PUBLIC:
        app.add_route(METRICS_PATH, metrics.answer, methods=["GET"], include_in_schema=False)

    # ---- scheduler ----
    scheduler = create_scheduler(payments.jobs, renewals=payments.renewals.run)
    return Service(
        settings=settings,
        catalog=catalog,
        clock=clock,
        database=database,
        payments=payments,
        telegram=telegram,
        http=http,
        app=app,
        scheduler=scheduler,
        broadcasts=broadcasts,
        metrics=metrics,
    )


def _metrics_endpoint(settings: Settings, gauges: DatabaseGauges) -> MetricsEndpoint | None:
    """/metrics on its own listener (METRICS_PORT), the public port (METRICS_PUBLIC), or none."""
    if settings.METRICS_PORT is not None:
        try:
            return MetricsEndpoint.bind(gauges, settings.METRICS_HOST, settings.METRICS_PORT)
        except PortUnavailable as exc:
            raise ConfigError(f"METRICS_PORT: {exc}") from None
    return MetricsEndpoint(gauges) if settings.METRICS_PUBLIC else None


def _public_base_url(settings: Settings, http: HttpServer) -> str:
    """PUBLIC_BASE_URL, or (unset) the address the service really bound."""
    if "PUBLIC_BASE_URL" in settings.model_fields_set:
        return settings.PUBLIC_BASE_URL
    return http.internal_base_url


def _payments_config(settings: Settings, http: HttpServer) -> PaymentsConfig:
    """Read what the payments part is built from out of Settings."""
    shop, key = settings.YOOKASSA_SHOP_ID, settings.YOOKASSA_SECRET_KEY
    domain = settings.RECEIPT_FALLBACK_EMAIL_DOMAIN
    return PaymentsConfig(
        tz=settings.tz,
        yookassa=YooKassaAccount(shop, key.get_secret_value(), settings.YOOKASSA_API_URL)
        if shop and key
        else None,
        yookassa_timeout=settings.YOOKASSA_TIMEOUT_SECONDS,
        yookassa_concurrency=settings.YOOKASSA_CONCURRENCY,
        public_base_url=_public_base_url(settings, http),
        internal_base_url=http.internal_base_url,
        trusted_networks=tuple(settings.YOOKASSA_TRUSTED_NETWORKS),
        trusted_proxies=tuple(settings.TRUSTED_PROXIES),
        checkout=CheckoutConfig(
            sandbox=settings.sandbox,
            ttl_minutes=settings.PAYMENT_TTL_MINUTES,
            pending_limit=settings.PENDING_PAYMENTS_LIMIT,
            pending_window_minutes=settings.PENDING_PAYMENTS_WINDOW_MINUTES,
            fallback_email_domain=domain,
            test_user_ids=frozenset(settings.TEST_USER_IDS),
        ),
        renewal=RenewalConfig(lead=timedelta(hours=settings.RENEWAL_LEAD_HOURS)),
        outbox_rate=settings.OUTBOX_RATE,
        webhook_concurrency=settings.WEBHOOK_CONCURRENCY,
        webhook_yield_seconds=settings.WEBHOOK_YIELD_SECONDS,
        renewal_policy=RenewalPolicy(
            retry_days=tuple(settings.RENEWAL_RETRY_DAYS),
            grace=timedelta(days=settings.RENEWAL_GRACE_DAYS),
        ),
        smtp=SmtpConfig(
            host=settings.SMTP_HOST,
            port=settings.SMTP_PORT,
            sender=settings.SMTP_FROM or f"tickets@{domain}",
            user=settings.SMTP_USER,
            password=settings.SMTP_PASSWORD.get_secret_value() if settings.SMTP_PASSWORD else None,
            starttls=settings.SMTP_TLS,
        )
        if settings.SMTP_HOST
        else None,
    )


def setup_logging(settings: Settings) -> None:
    """Configure the root logger from LOG_LEVEL and LOG_FORMAT, masking every secret set."""
    json_lines = settings.LOG_FORMAT == "json"
    configure_logging(settings.LOG_LEVEL, json_lines=json_lines, secrets=settings.secret_values())


async def run(
    settings: Settings, *, beside: Callable[[], Coroutine[Any, Any, None]] | None = None
) -> None:
    """Run until SIGINT or SIGTERM, then stop gracefully.

    `beside`: a task to run while the service is up, cancelled before it stops (`make bench`
    runs the service this way with its loop probe).
    """
    service = await build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    settle_heap()
    settler = ImportSettler(loop)
    settler.start()
    task = asyncio.create_task(beside()) if beside is not None else None
    try:
        await stop.wait()
        log.info("stopping on signal")
    finally:
        if task is not None:
            task.cancel()
        settler.stop()
        await service.stop()


def main(settings: Settings | None = None) -> int:
    """Start the service; print one line and exit 2 on bad configuration.

    `settings`: as read by the early check of `python main.py`; read here otherwise.
    """
    if settings is None:
        settings = load_or_exit()
    setup_logging(settings)
    try:
        asyncio.run(run(settings))
    except (ConfigError, CatalogError) as exc:
        log.critical("configuration error: %s", exc)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(_checked))
