"""The admin console's use-cases on a migrated database, with the real gateway and SDK against
the local YooKassa: races between admins, refunds made elsewhere, and the shop's calendar."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, Payment, Refund, Subscription, Ticket, User
from db.reader import Reader
from payments.admin import AdminConsole, RefundOutcome, Refusal
from payments.catalog import load_catalog
from payments.checkout.draft import CheckoutConfig
from payments.checkout.flow import Checkout
from payments.fulfilment import Fulfilment
from payments.mailer import Attachment
from payments.ports import (
    PaymentCanceled,
    RefundMade,
    SubscriptionActivated,
    SubscriptionEnded,
    SubscriptionReminder,
    TicketsIssued,
)
from payments.types import PaymentRequest, Receipt, ReceiptLine
from payments.yookassa.gateway import YooKassaGateway
from tests.conftest import MovableClock
from tests.fakes.yookassa_api import FakeYooKassa

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
    ) -> bool:
        return True


@dataclass
class Console:
    """The admin console wired to a real database and the local YooKassa."""

    fake: FakeYooKassa
    gateway: YooKassaGateway
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: MovableClock
    notifier: RecordingNotifier
    checkout: Checkout
    fulfilment: Fulfilment
    admin: AdminConsole


@pytest.fixture
async def console(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> AsyncIterator[Console]:
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
            notifier=notifier,
            mailer=NoMail(),
            catalog=catalog,
            clock=clock,
            reader=reader,
        )
        admin = AdminConsole(
            sessionmaker=sessionmaker,
            gateway=gateway,
            notifier=notifier,
            catalog=catalog,
            clock=clock,
            tz=SHOP_TZ,
            test_user_ids=frozenset({"42"}),
        )
        try:
            yield Console(fake, gateway, sessionmaker, clock, notifier, checkout, fulfilment, admin)
        finally:
            reader.close()
            await gateway.close()


async def _paid_monthly(console: Console, user_id: str) -> tuple[str, str]:
    async with console.sessionmaker.begin() as session:
        session.add(User(id=user_id, first_name="A", language="ru"))
    result = await console.checkout.start_subscription(
        user_id, "monthly", return_url="https://t.me/x"
    )
    await console.fake.pay(result.provider_id)
    await console.fulfilment.refresh(result.payment_id, source="test")
    return result.payment_id, result.provider_id


async def test_two_admins_refunding_at_once_refund_once(console: Console) -> None:
    payment_id, _ = await _paid_monthly(console, "1001")
    outcomes = await asyncio.gather(
        console.admin.refund(1, payment_id),
        console.admin.refund(2, payment_id),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(refused) == 1
    assert refused[0].reason in {"refund_in_progress", "refund_too_much", "refund_nothing_left"}
    assert len(console.fake.refunds) == 1
    async with console.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
    assert payment is not None and payment.refunded_amount == Decimal("299.00")
    assert len(console.notifier.refunds) == 1


async def test_a_refund_made_in_the_dashboard_is_recorded_and_applied(console: Console) -> None:
    payment_id, provider_id = await _paid_monthly(console, "1002")
    async with console.sessionmaker() as session:
        before = (await session.execute(select(Subscription))).scalar_one().expires_at
    line = ReceiptLine("Подписка", 1, Decimal("99.67"), 1, "service", "full_payment")
    remote = await console.gateway.create_refund(
        provider_id, Decimal("99.67"), "dashboard-1", receipt=Receipt((line,), "a@example.com")
    )
    applied = await console.admin.apply_refund(remote, source="webhook")
    assert applied.outcome is RefundOutcome.APPLIED
    again = await console.admin.apply_refund(remote, source="webhook")
    assert again.outcome is RefundOutcome.ALREADY
    async with console.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
        row = (await session.execute(select(Refund))).scalar_one()
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert payment is not None and payment.refunded_amount == Decimal("99.67")
    assert (row.provider_id, row.requested_by, row.status) == (remote.id, None, "succeeded")
    assert sub.expires_at == before - timedelta(days=10)  # round(30 × 99.67 / 299) = 10
    assert [n.amount for n in console.notifier.refunds] == [Decimal("99.67")]
    # What is left can still be refunded from the bot, and no more.
    with pytest.raises(Refusal) as refusal:
        await console.admin.refund(1, payment_id, Decimal("199.34"))
    assert refusal.value.values["left"] == Decimal("199.33")


async def test_a_refund_of_a_payment_that_is_not_ours_changes_nothing(console: Console) -> None:
    await _paid_monthly(console, "1003")
    foreign = await console.gateway.create_payment(
        PaymentRequest(
            idempotence_key="foreign-payment",
            amount=Decimal("5.00"),
            description="not ours",
            return_url="https://example.com",
            capture=True,
            metadata={},
            receipt_lines=(),
        )
    )
    await console.fake.pay(foreign.id)
    remote = await console.gateway.create_refund(foreign.id, Decimal("5.00"), "foreign-1")
    applied = await console.admin.apply_refund(remote, source="webhook")
    assert applied.outcome is RefundOutcome.UNKNOWN
    async with console.sessionmaker() as session:
        assert (await session.execute(select(Refund))).scalars().all() == []


async def _payment(
    session: AsyncSession,
    payment_id: str,
    user_id: str,
    amount: str,
    captured_at: datetime,
    *,
    status: str = "succeeded",
    is_test: bool = False,
) -> None:
    session.add(
        Payment(
            id=payment_id,
            idempotence_key=payment_id,
            kind="subscription",
            user_id=user_id,
            plan_code="monthly",
            amount=Decimal(amount),
            refunded_amount=Decimal("0.00"),
            status=status,
            is_test=is_test,
            description="d",
            created_at=captured_at,
            captured_at=captured_at if status == "succeeded" else None,
            expires_at=captured_at + timedelta(minutes=15),
        )
    )


async def test_stats_count_days_in_the_shop_time_zone(console: Console) -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=SHOP_TZ)
    console.clock.set(now.astimezone(UTC))
    late_yesterday = datetime(2026, 3, 9, 23, 30, tzinfo=SHOP_TZ)  # 20:30 UTC on the 9th
    early_today = datetime(2026, 3, 10, 0, 30, tzinfo=SHOP_TZ)  # 21:30 UTC on the 9th
    async with console.sessionmaker.begin() as session:
        for uid in ("1", "2", "3", "42", "test_user_1", "5"):
            session.add(User(id=uid, first_name="A", language="ru"))
        await session.flush()
        await _payment(session, "ZT_0000000001", "1", "100.00", late_yesterday)
        await _payment(session, "ZT_0000000002", "2", "200.00", early_today)
        await _payment(session, "ZT_0000000003", "42", "10.00", early_today, is_test=True)
        await _payment(session, "ZT_0000000004", "3", "400.00", now - timedelta(days=8))
        await _payment(session, "ZT_0000000005", "5", "800.00", early_today, status="canceled")
        await _payment(session, "ZT_0000000006", "1", "100.00", now - timedelta(days=40))
        for uid in ("1", "2", "42", "test_user_1"):
            session.add(
                Subscription(
                    user_id=uid,
                    plan_code="monthly",
                    status="active",
                    starts_at=now - timedelta(days=1),
                    expires_at=now + timedelta(days=20),
                )
            )
    stats = await console.admin.stats(7)
    assert (stats.today.revenue, stats.today.paid_orders) == (Decimal("200.00"), 1)
    assert (stats.week.revenue, stats.week.paid_orders) == (Decimal("300.00"), 2)
    assert (stats.month.revenue, stats.month.paid_orders) == (Decimal("700.00"), 3)
    # User 1 first paid 40 days ago: not new. Users 2 (today) and 3 (8 days ago) are.
    assert (stats.today.new_subscribers, stats.week.new_subscribers) == (1, 1)
    assert stats.month.new_subscribers == 2
    assert stats.active_subscriptions == 2  # "42" and "test_user_1" are test users
    series = {d.day: d.subscriptions for d in stats.series}
    assert len(stats.series) == 30 and stats.series[-1].day == date(2026, 3, 10)
    assert series[date(2026, 3, 10)] == Decimal("200.00")
    assert series[date(2026, 3, 9)] == Decimal("100.00")
    assert sum(series.values()) == Decimal("700.00")


async def _ticket(console: Console, code: str, visit: date) -> None:
    async with console.sessionmaker.begin() as session:
        session.add(User(id="77", first_name="Ivan", language="ru"))
        await session.flush()
        session.add(
            Order(
                id="ZT-20260310-001",
                user_id="77",
                visit_date=visit,
                slot_time="10:00",
                seats=1,
                seats_held=True,
                total=Decimal("1000.00"),
                status="paid",
            )
        )
        await session.flush()
        session.add(
            Payment(
                id="ZT_0000000077",
                idempotence_key="ZT_0000000077",
                kind="tickets",
                user_id="77",
                order_id="ZT-20260310-001",
                amount=Decimal("1000.00"),
                refunded_amount=Decimal("0.00"),
                status="succeeded",
                description="d",
                expires_at=console.clock.now(),
            )
        )
        await session.flush()
        session.add(
            Ticket(
                code=code,
                order_id="ZT-20260310-001",
                payment_id="ZT_0000000077",
                user_id="77",
                ticket_type="adult",
                visit_date=visit,
                slot_time="10:00",
                status="valid",
            )
        )


async def test_two_gates_scanning_one_ticket_let_it_in_once(console: Console) -> None:
    today = console.clock.now().astimezone(SHOP_TZ).date()
    await _ticket(console, "CODE-1", today)
    outcomes = await asyncio.gather(
        console.admin.check_in(1, "CODE-1"),
        console.admin.check_in(2, "CODE-1"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(refused) == 1 and refused[0].reason == "ticket_used"
    async with console.sessionmaker() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert ticket.status == "used"
    assert refused[0].values["at"] == ticket.checked_in_at
    assert refused[0].values["by"] == ticket.checked_in_by


async def test_a_lapsed_subscription_is_not_shortened_further(console: Console) -> None:
    payment_id, _ = await _paid_monthly(console, "1004")
    console.clock.advance(days=31)
    async with console.sessionmaker() as session:
        before = (await session.execute(select(Subscription))).scalar_one().expires_at
    result = await console.admin.refund(1, payment_id, Decimal("100.00"))
    assert not result.subscription_active
    async with console.sessionmaker() as session:
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.expires_at == before
    assert console.notifier.refunds[-1].subscription_ended
