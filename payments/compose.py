"""Build the payments part from plain values: gateway (sandbox or live), use-cases and sweeps.

main.py reads Settings and hands this module a `PaymentsConfig`; nothing here knows Settings,
aiogram or the process around it.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.reader import Reader
from payments.account import Account
from payments.admin.console import AdminConsole, create_admin_console
from payments.catalog import Catalog
from payments.checkout.draft import CheckoutConfig
from payments.checkout.flow import Checkout
from payments.fulfilment import Fulfilment
from payments.jobs import Jobs
from payments.loop_turns import Crowd, LoopTurns
from payments.mailer import NoMailer, SmtpConfig, SmtpMailer
from payments.metrics import CUSTOMERS_IN_FLIGHT, WEBHOOK_WAITING, count_outbox
from payments.outbox.lane import DEFAULT_RATE, SendingLane
from payments.outbox.notes import EMAIL_TICKETS, mail_deliverer
from payments.ports import Clock, Mailer
from payments.sessions import Sessions
from payments.stars import StarsBilling
from payments.subscriptions.consent import AutoRenewal
from payments.subscriptions.outcomes import RenewalPolicy
from payments.subscriptions.renewal import RenewalConfig, Renewals
from payments.tickets.rules import Availability, TicketRules
from payments.tickets.signing import TicketSigner
from payments.yookassa.gateway import YooKassaGateway
from payments.yookassa.webhook import WEBHOOK_PATH, Network, WebhookHandler
from payments.yookassa.webhook import setup as webhook_setup

if TYPE_CHECKING:  # the sandbox is imported only when it runs (no live shop configured)
    from payments.yookassa.sandbox.api import SandboxYooKassa
    from payments.yookassa.sandbox.page import Describe

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True, slots=True)
class YooKassaAccount:
    """A live YooKassa shop: its credentials and API."""

    shop_id: str
    secret_key: str
    api_url: str


@dataclass(frozen=True, slots=True)
class PaymentsConfig:
    """The plain values the payments part is built from."""

    tz: ZoneInfo
    # None: payments run against the embedded sandbox and no real money moves.
    yookassa: YooKassaAccount | None
    yookassa_timeout: float
    # Calls to YooKassa in flight at once (the gateway's worker threads).
    yookassa_concurrency: int
    # Where customers' browsers reach this service, and where the service reaches itself.
    public_base_url: str
    internal_base_url: str
    trusted_networks: tuple[Network, ...]
    trusted_proxies: tuple[Network, ...]
    checkout: CheckoutConfig
    # None: no e-mail; tickets arrive in the chat only.
    smtp: SmtpConfig | None
    # YooKassa notifications applied at a time, and how long one not yet started waits while
    # customers crowd the loop (payments/loop_turns.py).
    webhook_concurrency: int
    webhook_yield_seconds: float
    # Auto-renewal: when to charge (lead before the end) and when to retry, how long the grace.
    renewal: RenewalConfig = RenewalConfig()
    renewal_policy: RenewalPolicy = RenewalPolicy()
    # The sending lane's budget: messages a second over all chats.
    outbox_rate: float = DEFAULT_RATE


@dataclass(frozen=True, slots=True)
class Payments:
    """The payments part: the gateway and the use-cases the bot, the API and the sweeps call."""

    gateway: YooKassaGateway
    sandbox: SandboxYooKassa | None
    checkout: Checkout
    fulfilment: Fulfilment
    sessions: Sessions
    account: Account
    admin: AdminConsole
    jobs: Jobs
    # The auto-renewal sweep, and the customer's switches (off, on again, forget the card).
    renewals: Renewals
    auto_renewal: AutoRenewal
    rules: TicketRules
    availability: Availability
    webhook: WebhookHandler
    # Signs every ticket QR we render; the gate checks them with its public key.
    signer: TicketSigner
    # Digital plans sold for Telegram Stars.
    stars: StarsBilling
    # The sending lane: delivers the outbox (the bot registers its deliverers).
    outbox: SendingLane
    # Customers being answered now: the bot's updates and the API's requests count themselves.
    crowd: Crowd
    # What the sandbox checkout page shows a payment buys (sandbox mode only).
    sandbox_orders: Describe | None = None

    def setup_sandbox(self, app: FastAPI) -> None:
        """Serve the sandbox's API and checkout pages (sandbox mode only)."""
        if self.sandbox is not None:
            from payments.yookassa.sandbox.api import setup as sandbox_setup

            sandbox_setup(app, self.sandbox, self.sandbox_orders)

    def setup_webhook(self, app: FastAPI) -> None:
        """Add the route YooKassa notifies."""
        webhook_setup(app, self.webhook)

    async def close(self) -> None:
        """Stop the sandbox's notifications, then the gateway's calls."""
        if self.sandbox is not None:
            await self.sandbox.close()
        await self.gateway.close()


def create_gateway(config: PaymentsConfig) -> tuple[YooKassaGateway, SandboxYooKassa | None]:
    """Create the gateway to the live shop, or to the embedded sandbox (and the sandbox)."""
    if config.yookassa is not None:
        gateway = YooKassaGateway(
            shop_id=config.yookassa.shop_id,
            secret_key=config.yookassa.secret_key,
            api_url=config.yookassa.api_url,
            timeout=config.yookassa_timeout,
            max_workers=config.yookassa_concurrency,
        )
        log.info(
            "payments: live YooKassa shop %s via %s",
            config.yookassa.shop_id,
            config.yookassa.api_url,
        )
        return gateway, None
    from payments.yookassa.sandbox.api import SandboxYooKassa
    from payments.yookassa.sandbox.wire import SANDBOX_SECRET_KEY, SANDBOX_SHOP_ID

    internal = config.internal_base_url
    sandbox = SandboxYooKassa(
        public_base_url=config.public_base_url, webhook_url=f"{internal}{WEBHOOK_PATH}"
    )
    gateway = YooKassaGateway(
        shop_id=SANDBOX_SHOP_ID,
        secret_key=SANDBOX_SECRET_KEY,
        api_url=f"{internal}{SandboxYooKassa.api_path}",
        timeout=config.yookassa_timeout,
        max_workers=config.yookassa_concurrency,
    )
    log.warning(
        "payments: SANDBOX mode (YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY are unset): no real "
        "money moves; checkout pages are served under %s/sandbox/checkout/",
        config.public_base_url,
    )
    return gateway, sandbox


def create_mailer(smtp: SmtpConfig | None) -> Mailer:
    """Create the ticket mailer, or one that sends nothing when SMTP is not configured."""
    if smtp is None:
        log.info("e-mail: off (SMTP_HOST is unset); tickets arrive in the chat only")
        return NoMailer()
    log.info("e-mail: tickets are sent through %s:%s", smtp.host, smtp.port)
    return SmtpMailer(smtp)


def create_payments(
    config: PaymentsConfig,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    reader: Reader,
    catalog: Catalog,
    clock: Clock,
    signer: TicketSigner,
) -> Payments:
    """Create the gateway and every payments use-case, wired to each other.

    Customers' messages are written to the outbox; `Payments.outbox` (the sending lane) is
    created here, not started: the bot registers its deliverers and the service starts it.
    """
    gateway, sandbox = create_gateway(config)
    outbox = SendingLane(sessionmaker, rate=config.outbox_rate, reader=reader)
    outbox.observe(count_outbox)
    if config.smtp is not None:
        outbox.register(EMAIL_TICKETS, mail_deliverer(create_mailer(config.smtp), catalog))
    trusted = list(config.trusted_networks)
    if sandbox is not None:
        # The sandbox notifies from this machine; its payments are re-fetched like any other.
        trusted += [ipaddress.ip_network(net) for net in LOOPBACK]
    checkout = Checkout(
        tz=config.tz,
        sessionmaker=sessionmaker,
        gateway=gateway,
        catalog=catalog,
        clock=clock,
        config=config.checkout,
    )
    fulfilment = Fulfilment(
        sessionmaker=sessionmaker,
        gateway=gateway,
        catalog=catalog,
        clock=clock,
        reader=reader,
        signer=signer,
        renewal_policy=config.renewal_policy,
        wake=outbox.wake,
        mail_tickets=config.smtp is not None,
    )
    admin = create_admin_console(
        sessionmaker=sessionmaker,
        reader=reader,
        gateway=gateway,
        catalog=catalog,
        clock=clock,
        tz=config.tz,
        test_user_ids=config.checkout.test_user_ids,
        signer=signer,
        fallback_email_domain=config.checkout.fallback_email_domain,
        wake=outbox.wake,
    )
    renewals = Renewals(
        sessionmaker=sessionmaker,
        gateway=gateway,
        fulfilment=fulfilment,
        catalog=catalog,
        clock=clock,
        checkout=config.checkout,
        config=config.renewal,
    )
    crowd = Crowd()
    turns = LoopTurns(
        config.webhook_concurrency, crowd=crowd, patience=config.webhook_yield_seconds
    )
    WEBHOOK_WAITING.set_function(lambda: turns.waiting)
    CUSTOMERS_IN_FLIGHT.set_function(lambda: crowd.in_flight)
    return Payments(
        gateway=gateway,
        sandbox=sandbox,
        checkout=checkout,
        fulfilment=fulfilment,
        sessions=Sessions(
            sessionmaker=sessionmaker,
            gateway=gateway,
            catalog=catalog,
            clock=clock,
            fallback_email_domain=config.checkout.fallback_email_domain,
        ),
        account=Account(
            sessionmaker=sessionmaker, reader=reader, clock=clock, tz=config.tz, signer=signer
        ),
        admin=admin,
        jobs=Jobs(
            sessionmaker=sessionmaker,
            gateway=gateway,
            fulfilment=fulfilment,
            clock=clock,
            schedule_renewals=renewals.schedule,
            wake=outbox.wake,
        ),
        renewals=renewals,
        auto_renewal=AutoRenewal(sessionmaker=sessionmaker, clock=clock),
        rules=TicketRules(catalog, config.tz),
        availability=Availability(reader=reader, catalog=catalog),
        webhook=WebhookHandler(
            gateway=gateway,
            fulfilment=fulfilment,
            trusted_networks=trusted,
            trusted_proxies=config.trusted_proxies,
            refunds=admin.settlement,
            turns=turns,
        ),
        signer=signer,
        stars=StarsBilling(
            sessionmaker=sessionmaker,
            reader=reader,
            fulfilment=fulfilment,
            settlement=admin.settlement,
            catalog=catalog,
            clock=clock,
            ttl_minutes=config.checkout.ttl_minutes,
        ),
        outbox=outbox,
        crowd=crowd,
        sandbox_orders=_order_summaries(reader, catalog) if sandbox else None,
    )


def _order_summaries(reader: Reader, catalog: Catalog) -> Describe:
    """What the sandbox checkout page shows a payment buys (sandbox mode only)."""
    from payments.yookassa.sandbox.summary import OrderSummaries

    return OrderSummaries(reader=reader, catalog=catalog)
