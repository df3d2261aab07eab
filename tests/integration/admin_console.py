"""The admin use-cases wired to a migrated database, the real gateway and SDK against the local
YooKassa, and a notifier that records; shared by the tests of payments/admin/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from db.reader import Reader
from payments.admin.checkin import CheckIns
from payments.admin.figures import SalesFigures
from payments.admin.refund_drafts import RefundDrafts
from payments.admin.refunds import Refunds
from payments.admin.settlement import RefundSettlement
from payments.catalog import load_catalog
from payments.checkout.draft import CheckoutConfig
from payments.checkout.flow import Checkout
from payments.fulfilment import Fulfilment
from payments.mailer import Attachment, MailResult
from payments.outbox.lane import SendingLane
from payments.ports import (
    PaymentCanceled,
    RefundMade,
    SubscriptionActivated,
    SubscriptionEnded,
    SubscriptionReminder,
    TicketsIssued,
)
from payments.tickets.signing import TicketSigner, new_seed
from payments.yookassa.gateway import YooKassaGateway
from tests.conftest import MovableClock
from tests.fakes.yookassa_api import FakeYooKassa
from tests.outbox_kit import recording_lane

SHOP_TZ = ZoneInfo("Europe/Moscow")


class RecordingNotifier:
    """A CustomerNotifier that keeps what it is asked to say."""

    def __init__(self) -> None:
        self.refunds: list[RefundMade] = []
        self.activated: list[SubscriptionActivated] = []

    async def subscription_activated(self, note: SubscriptionActivated) -> None:
        self.activated.append(note)

    async def payment_canceled(self, note: PaymentCanceled) -> None:
        return None

    async def tickets_issued(self, note: TicketsIssued) -> None:
        return None

    async def subscription_reminder(self, note: SubscriptionReminder) -> None:
        return None

    async def subscription_ended(self, note: SubscriptionEnded) -> None:
        return None

    async def refund_made(self, note: RefundMade) -> None:
        self.refunds.append(note)


class NoMail:
    """A Mailer that drops everything."""

    async def send(
        self, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()
    ) -> MailResult:
        return MailResult.SENT


@dataclass
class Console:
    """The admin use-cases wired to a real database and the local YooKassa."""

    fake: FakeYooKassa
    gateway: YooKassaGateway
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: MovableClock
    notifier: RecordingNotifier
    checkout: Checkout
    fulfilment: Fulfilment
    refunds: Refunds
    settlement: RefundSettlement
    figures: SalesFigures
    checkin: CheckIns
    refund_drafts: RefundDrafts
    outbox: SendingLane


@asynccontextmanager
async def wired_console(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> AsyncIterator[Console]:
    """Wire the shop and the admin use-cases, each with only what it needs."""
    async with FakeYooKassa(shop_id="123456", secret_key="test_secret") as fake:
        gateway = YooKassaGateway(
            shop_id=fake.shop_id,
            secret_key=fake.secret_key,
            api_url=fake.api_url,
            timeout=5.0,
            backoff=(0.05, 0.1),
        )
        catalog = load_catalog()
        notifier = RecordingNotifier()
        checkout = Checkout(
            tz=SHOP_TZ,
            sessionmaker=sessionmaker,
            gateway=gateway,
            catalog=catalog,
            clock=clock,
            config=CheckoutConfig(
                sandbox=False,
                ttl_minutes=15,
                pending_limit=10,
                pending_window_minutes=5,
                fallback_email_domain="burlive.ru",
                test_user_ids=frozenset(),
            ),
        )
        reader = Reader(sessionmaker.kw["bind"])
        fulfilment = Fulfilment(
            sessionmaker=sessionmaker,
            gateway=gateway,
            catalog=catalog,
            clock=clock,
            reader=reader,
            signer=TicketSigner(new_seed()),
        )
        settlement = RefundSettlement(sessionmaker=sessionmaker, clock=clock, tz=SHOP_TZ)
        refunds = Refunds(
            sessionmaker=sessionmaker,
            gateway=gateway,
            settlement=settlement,
            catalog=catalog,
            clock=clock,
        )
        figures = SalesFigures(
            sessionmaker=sessionmaker,
            reader=reader,
            clock=clock,
            tz=SHOP_TZ,
            test_user_ids=frozenset({"42"}),
        )
        checkin = CheckIns(
            sessionmaker=sessionmaker, clock=clock, tz=SHOP_TZ, signer=TicketSigner(new_seed())
        )
        try:
            async with recording_lane(sessionmaker, notifier) as outbox:
                yield Console(
                    fake,
                    gateway,
                    sessionmaker,
                    clock,
                    notifier,
                    checkout,
                    fulfilment,
                    refunds,
                    settlement,
                    figures,
                    checkin,
                    RefundDrafts(
                        sessionmaker=sessionmaker, refunds=refunds, clock=clock, tz=SHOP_TZ
                    ),
                    outbox,
                )
        finally:
            reader.close()
            await gateway.close()


async def paid_monthly(console: Console, user_id: str) -> tuple[str, str]:
    """Return (our id, YooKassa's id) of a monthly subscription `user_id` just paid."""
    async with console.sessionmaker.begin() as session:
        session.add(User(id=user_id, first_name="A", language="ru"))
    result = await console.checkout.start_subscription(
        user_id, "monthly", return_url="https://t.me/x"
    )
    await console.fake.pay(result.provider_id)
    await console.fulfilment.refresh(result.payment_id, source="test")
    return result.payment_id, result.provider_id
