"""Guards that an outside review broke on purpose without the suite noticing (issue 11).

Each test here fails when its guard goes: the payment core on a migrated database (SQLite by
default, PostgreSQL in the services run), the real gateway and SDK against the local YooKassa.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, Payment, Refund, SlotInventory, Ticket, User
from db.models_subscriptions import Subscription
from db.reader import Reader
from payments.admin.refunds import Refunds, RefundState
from payments.admin.results import Refusal
from payments.admin.settlement import RefundOutcome, RefundSettlement
from payments.catalog import load_catalog
from payments.checkout.draft import CheckoutConfig
from payments.checkout.errors import TooManyPending
from payments.checkout.flow import Checkout
from payments.checkout.results import CheckoutResult
from payments.fulfilment import Fulfilment, Outcome
from payments.jobs import Jobs
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
from payments.rounds import SweepReport
from payments.tickets.rules import TicketRules, ValidOrder
from payments.tickets.signing import TicketSigner, new_seed
from payments.types import PaymentStatus, Receipt, ReceiptLine
from payments.yookassa.gateway import YooKassaGateway
from tests.conftest import MovableClock
from tests.fakes.yookassa_api import FakeYooKassa
from tests.outbox_kit import recording_lane, settle

SHOP_TZ = ZoneInfo("Europe/Moscow")
PENDING_LIMIT = 2
# Short enough that a held answer times out quickly, long enough for a loaded machine.
GATEWAY_TIMEOUT = 2.0


class Recorder:
    """A CustomerNotifier that keeps every message it is asked to send."""

    def __init__(self) -> None:
        self.activated: list[SubscriptionActivated] = []
        self.canceled: list[PaymentCanceled] = []
        self.tickets: list[TicketsIssued] = []
        self.refunds: list[RefundMade] = []

    async def subscription_activated(self, note: SubscriptionActivated) -> None:
        self.activated.append(note)

    async def payment_canceled(self, note: PaymentCanceled) -> None:
        self.canceled.append(note)

    async def tickets_issued(self, note: TicketsIssued) -> None:
        self.tickets.append(note)

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
class Shop:
    """The payment core wired to the local YooKassa, a real database and a test clock."""

    fake: FakeYooKassa
    gateway: YooKassaGateway
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: MovableClock
    notifier: Recorder
    checkout: Checkout
    fulfilment: Fulfilment
    jobs: Jobs
    refunds: Refunds
    settlement: RefundSettlement
    rules: TicketRules
    outbox: SendingLane
    # The shop's day when the test began: tests move the clock by minutes, and near midnight
    # that crossed into the next day, so the visit day read after it was another one.
    opened: date


@pytest.fixture
async def shop(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> AsyncIterator[Shop]:
    async with FakeYooKassa(shop_id="123456", secret_key="test_secret") as fake:
        # notification_url stays None: nothing reaches us unless a test applies it.
        gateway = YooKassaGateway(
            shop_id=fake.shop_id,
            secret_key=fake.secret_key,
            api_url=fake.api_url,
            timeout=GATEWAY_TIMEOUT,
            backoff=(0.05, 0.1, 0.2),
        )
        catalog = load_catalog()
        notifier = Recorder()
        checkout = Checkout(
            tz=SHOP_TZ,
            sessionmaker=sessionmaker,
            gateway=gateway,
            catalog=catalog,
            clock=clock,
            config=CheckoutConfig(
                sandbox=False,
                ttl_minutes=15,
                pending_limit=PENDING_LIMIT,
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
        jobs = Jobs(
            sessionmaker=sessionmaker,
            gateway=gateway,
            fulfilment=fulfilment,
            clock=clock,
        )
        settlement = RefundSettlement(sessionmaker=sessionmaker, clock=clock, tz=SHOP_TZ)
        refunds = Refunds(
            sessionmaker=sessionmaker,
            gateway=gateway,
            settlement=settlement,
            catalog=catalog,
            clock=clock,
        )
        rules = TicketRules(catalog, SHOP_TZ)
        try:
            async with recording_lane(sessionmaker, notifier) as outbox:
                yield Shop(
                    fake,
                    gateway,
                    sessionmaker,
                    clock,
                    notifier,
                    checkout,
                    fulfilment,
                    jobs,
                    refunds,
                    settlement,
                    rules,
                    outbox,
                    rules.today(clock.now()),
                )
        finally:
            reader.close()
            await gateway.close()


# ---- helpers ----------------------------------------------------------------------------


async def add_user(shop: Shop, user_id: str) -> None:
    async with shop.sessionmaker.begin() as session:
        session.add(User(id=user_id, first_name="A", language="ru"))


def visit_day(shop: Shop) -> date:
    return shop.opened + timedelta(days=3)


def order_of(shop: Shop, adults: int = 2) -> ValidOrder:
    return shop.rules.validate(visit_day(shop), "12:00", {"adult": adults}, shop.clock.now())


async def buy_tickets(shop: Shop, user_id: str, adults: int = 2) -> CheckoutResult:
    started = await shop.checkout.start_tickets(
        user_id, order_of(shop, adults), return_url="https://t.me/x"
    )
    return started.result


async def buy_monthly(shop: Shop, user_id: str) -> CheckoutResult:
    return await shop.checkout.start_subscription(user_id, "monthly", return_url="https://t.me/x")


async def stored(shop: Shop, payment_id: str) -> Payment:
    async with shop.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
    assert payment is not None
    return payment


async def held_seats(shop: Shop) -> int:
    async with shop.sessionmaker() as session:
        held = await session.scalar(
            select(SlotInventory.held).where(
                SlotInventory.visit_date == visit_day(shop), SlotInventory.slot_time == "12:00"
            )
        )
    return int(held or 0)


async def order_status(shop: Shop, payment_id: str) -> tuple[str, bool]:
    async with shop.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
        assert payment is not None and payment.order_id is not None
        order = await session.get(Order, payment.order_id)
    assert order is not None
    return order.status, order.seats_held


async def valid_tickets(shop: Shop, payment_id: str) -> int:
    async with shop.sessionmaker() as session:
        count = await session.scalar(
            select(func.count(Ticket.code)).where(
                Ticket.payment_id == payment_id, Ticket.status == "valid"
            )
        )
    return int(count or 0)


def requests_to(shop: Shop, method: str, path_suffix: str) -> list[str | None]:
    """The idempotence keys of the requests of one method whose path ends so."""
    return [
        r.idempotence_key
        for r in shop.fake.requests
        if r.method == method and r.path.endswith(path_suffix)
    ]


# ---- who may cancel -----------------------------------------------------------------------


async def test_one_user_cannot_cancel_another_users_pending_payment(shop: Shop) -> None:
    await add_user(shop, "5001")
    await add_user(shop, "5002")
    result = await buy_tickets(shop, "5001")
    assert await held_seats(shop) == 2

    assert await shop.checkout.cancel_by_user(result.payment_id, "5002") is False

    payment = await stored(shop, result.payment_id)
    assert (payment.status, payment.cancel_reason) == ("pending", None)
    assert await held_seats(shop) == 2
    assert await order_status(shop, result.payment_id) == ("pending", True)
    # The owner still can, and that gives the seats back.
    assert await shop.checkout.cancel_by_user(result.payment_id, "5001") is True
    assert (await stored(shop, result.payment_id)).cancel_reason == "user"
    assert await held_seats(shop) == 0


# ---- the pending limit ------------------------------------------------------------------


async def test_paid_and_canceled_payments_do_not_count_toward_the_pending_limit(
    shop: Shop,
) -> None:
    await add_user(shop, "5101")
    paid = await buy_monthly(shop, "5101")
    dropped = await buy_monthly(shop, "5101")
    with pytest.raises(TooManyPending):
        await buy_monthly(shop, "5101")
    await shop.fake.pay(paid.provider_id)
    assert (await shop.fulfilment.refresh(paid.payment_id, source="test")).status is (
        PaymentStatus.SUCCEEDED
    )
    assert await shop.checkout.cancel_by_user(dropped.payment_id, "5101") is True

    # Both finished within the window; neither holds a place any more.
    again = [await buy_monthly(shop, "5101") for _ in range(PENDING_LIMIT)]

    assert [(await stored(shop, r.payment_id)).status for r in again] == ["pending"] * 2
    with pytest.raises(TooManyPending):
        await buy_monthly(shop, "5101")
    assert shop.fake.create_count == 2 + PENDING_LIMIT


# ---- what YooKassa says ---------------------------------------------------------------------


async def test_a_canceled_answer_never_moves_a_succeeded_payment_nor_frees_its_seats(
    shop: Shop,
) -> None:
    await add_user(shop, "5201")
    result = await buy_tickets(shop, "5201")
    await shop.fake.pay(result.provider_id)
    applied = await shop.fulfilment.refresh(result.payment_id, source="webhook")
    assert (applied.outcome, applied.status) == (Outcome.APPLIED, PaymentStatus.SUCCEEDED)
    assert shop.fake.payments[result.provider_id]["status"] == "succeeded"
    # YooKassa (or someone pretending through its API) now answers "canceled".
    remote = shop.fake.payments[result.provider_id]
    remote.update(status="canceled", paid=False)
    remote["cancellation_details"] = {"party": "yoo_money", "reason": "general_decline"}

    again = await shop.fulfilment.refresh(result.payment_id, source="webhook")

    assert (again.outcome, again.status) == (Outcome.ALREADY, PaymentStatus.SUCCEEDED)
    payment = await stored(shop, result.payment_id)
    assert (payment.status, payment.cancel_reason) == ("succeeded", None)
    assert await held_seats(shop) == 2
    assert await order_status(shop, result.payment_id) == ("paid", True)
    assert await valid_tickets(shop, result.payment_id) == 2
    await settle(shop.outbox)
    assert shop.notifier.canceled == []
    assert len(shop.notifier.tickets) == 1


async def test_a_capture_retried_after_a_timeout_reuses_its_idempotence_key(shop: Shop) -> None:
    await add_user(shop, "5301")
    result = await buy_tickets(shop, "5301")
    await shop.fake.pay(result.provider_id)
    remote = await shop.gateway.get_payment(result.provider_id)
    assert remote.status is PaymentStatus.WAITING_FOR_CAPTURE
    # The first capture never happens at YooKassa, and its answer comes too late for us.
    shop.fake.fail_next(1, status=500, path_contains="/capture")
    late = shop.fake.hold("POST", f"/v3/payments/{result.provider_id}/capture")

    first = await shop.fulfilment.apply(remote, source="webhook")

    assert late.arrived.is_set()
    late.release.set()
    assert (first.outcome, first.status) == (Outcome.RETRY, PaymentStatus.WAITING_FOR_CAPTURE)
    assert shop.fake.payments[result.provider_id]["status"] == "waiting_for_capture"
    # The redelivery (or the reconciler) tries again.
    second = await shop.fulfilment.refresh(result.payment_id, source="webhook")

    assert (second.outcome, second.status) == (Outcome.APPLIED, PaymentStatus.SUCCEEDED)
    keys = requests_to(shop, "POST", "/capture")
    assert len(keys) >= 2
    assert set(keys) == {f"{result.payment_id}-capture"}
    assert await valid_tickets(shop, result.payment_id) == 2


# ---- refunds ------------------------------------------------------------------------------


async def test_refunding_a_pending_or_canceled_payment_is_refused_as_not_paid(shop: Shop) -> None:
    await add_user(shop, "5401")
    pending = await buy_monthly(shop, "5401")
    canceled = await buy_monthly(shop, "5401")
    assert await shop.checkout.cancel_by_user(canceled.payment_id, "5401")

    for result, status in ((pending, "pending"), (canceled, "canceled")):
        with pytest.raises(Refusal) as refusal:
            await shop.refunds.refund(1, result.payment_id)
        assert refusal.value.reason == "refund_not_paid"
        assert refusal.value.values == {"payment_id": result.payment_id, "status": status}
        assert (await stored(shop, result.payment_id)).refunded_amount == Decimal("0.00")

    assert requests_to(shop, "POST", "/v3/refunds") == []
    async with shop.sessionmaker() as session:
        assert (await session.execute(select(Refund))).scalars().all() == []
    await settle(shop.outbox)
    assert shop.notifier.refunds == []


async def test_a_dashboard_refund_larger_than_what_is_left_is_not_applied(shop: Shop) -> None:
    await add_user(shop, "5501")
    result = await buy_monthly(shop, "5501")
    await shop.fake.pay(result.provider_id)
    await shop.fulfilment.refresh(result.payment_id, source="test")
    async with shop.sessionmaker() as session:
        expires_at = (await session.execute(select(Subscription))).scalar_one().expires_at
    # An admin's refund of 200.00 goes unanswered: 200.00 stays reserved for it.
    shop.fake.fail_next(1, status=500, path_contains="/v3/refunds", method="POST")
    unanswered = shop.fake.hold("POST", "/v3/refunds")
    made = await shop.refunds.refund(1, result.payment_id, Decimal("200.00"))
    unanswered.release.set()
    assert made.state is RefundState.UNANSWERED
    assert (await stored(shop, result.payment_id)).refunded_amount == Decimal("200.00")
    # Meanwhile someone refunds 150.00 in YooKassa's dashboard: only 99.00 is left here.
    line = ReceiptLine("Подписка", 1, Decimal("150.00"), 1, "service", "full_payment")
    remote = await shop.gateway.create_refund(
        result.provider_id, Decimal("150.00"), "dash-1", receipt=Receipt((line,), "a@example.com")
    )
    assert remote.status == "succeeded"

    applied = await shop.settlement.apply_refund(remote, source="webhook")

    assert applied.outcome is RefundOutcome.UNKNOWN
    payment = await stored(shop, result.payment_id)
    assert payment.refunded_amount == Decimal("200.00")
    async with shop.sessionmaker() as session:
        rows = (await session.execute(select(Refund))).scalars().all()
        after = (await session.execute(select(Subscription))).scalar_one().expires_at
    assert [(r.amount, r.status) for r in rows] == [(Decimal("200.00"), "pending")]
    assert after == expires_at
    await settle(shop.outbox)
    assert shop.notifier.refunds == []


# ---- the expiry sweep ---------------------------------------------------------------------


async def test_expiry_captures_a_two_stage_payment_whose_notification_was_lost(
    shop: Shop,
) -> None:
    await add_user(shop, "5601")
    result = await buy_tickets(shop, "5601")
    shop.fake.lose_notifications(1)
    await shop.fake.pay(result.provider_id)
    assert shop.fake.dropped_notifications == [("payment.waiting_for_capture", result.provider_id)]
    shop.clock.advance(minutes=16)

    report = await shop.jobs.expire()

    assert report == SweepReport(seen=1, changed=1)
    payment = await stored(shop, result.payment_id)
    assert (payment.status, payment.cancel_reason) == ("succeeded", None)
    assert shop.fake.payments[result.provider_id]["status"] == "succeeded"
    assert requests_to(shop, "POST", "/capture") == [f"{result.payment_id}-capture"]
    assert await held_seats(shop) == 2
    assert await order_status(shop, result.payment_id) == ("paid", True)
    assert await valid_tickets(shop, result.payment_id) == 2
    await settle(shop.outbox)
    assert len(shop.notifier.tickets) == 1
    assert shop.notifier.canceled == []


async def test_a_payment_applied_between_the_sweeps_read_and_its_update_is_left_alone(
    shop: Shop,
) -> None:
    await add_user(shop, "5701")
    result = await buy_tickets(shop, "5701")
    shop.clock.advance(minutes=16)
    # The sweep has read the overdue payment and asks YooKassa what was paid; YooKassa's
    # answer (nothing) is on its way while the customer pays and the webhook fulfils it.
    asked = shop.fake.hold("GET", "/v3/payments", query={"status": "succeeded"})
    sweep = asyncio.create_task(shop.jobs.expire())
    async with asyncio.timeout(10):
        await asked.arrived.wait()
    await shop.fake.pay(result.provider_id)
    applied = await shop.fulfilment.refresh(result.payment_id, source="webhook")
    assert (applied.outcome, applied.status) == (Outcome.APPLIED, PaymentStatus.SUCCEEDED)
    asked.release.set()

    report = await sweep

    assert report == SweepReport(seen=1, changed=0)
    payment = await stored(shop, result.payment_id)
    assert (payment.status, payment.cancel_reason) == ("succeeded", None)
    assert await held_seats(shop) == 2
    assert await order_status(shop, result.payment_id) == ("paid", True)
    assert await valid_tickets(shop, result.payment_id) == 2
    await settle(shop.outbox)
    assert shop.notifier.canceled == []
