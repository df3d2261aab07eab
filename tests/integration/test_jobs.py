"""The scheduled sweeps and fulfilment on a migrated database, with the real gateway and SDK
against the local YooKassa: what the shop owner would see in statuses, expiries and messages.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, PaymentEvent, User
from db.models_subscriptions import Subscription, SubscriptionPeriod
from db.reader import Reader
from db.repositories.subscriptions import extend_subscription
from payments.account import Account
from payments.catalog import load_catalog
from payments.checkout.draft import CheckoutConfig
from payments.checkout.flow import Checkout
from payments.checkout.results import CheckoutResult
from payments.fulfilment import Fulfilment, Outcome
from payments.jobs import Jobs
from payments.mailer import Attachment, MailResult
from payments.outbox.lane import SendingLane
from payments.ports import (
    PaymentCanceled,
    Recipient,
    SubscriptionActivated,
    SubscriptionEnded,
    SubscriptionReminder,
    TicketsIssued,
)
from payments.rounds import SweepReport
from payments.subscriptions.sweeps import LAPSE_CHUNK
from payments.tickets.signing import TicketSigner, new_seed
from payments.types import PaymentStatus, SubscriptionStatus
from payments.yookassa.gateway import YooKassaGateway
from tests.conftest import MovableClock
from tests.fakes.yookassa_api import FakeYooKassa
from tests.outbox_kit import recording_lane, settle

MONTHLY_PRICE = Decimal("299.00")
MONTH = timedelta(days=30)
SHOP_TZ = ZoneInfo("Europe/Moscow")


class RecordingNotifier:
    """A Notifier that keeps every message it is asked to send."""

    def __init__(self) -> None:
        self.activated: list[SubscriptionActivated] = []
        self.canceled: list[PaymentCanceled] = []
        self.tickets: list[TicketsIssued] = []
        self.reminders: list[SubscriptionReminder] = []
        self.ended: list[SubscriptionEnded] = []

    async def subscription_activated(self, note: SubscriptionActivated) -> None:
        self.activated.append(note)

    async def payment_canceled(self, note: PaymentCanceled) -> None:
        self.canceled.append(note)

    async def tickets_issued(self, note: TicketsIssued) -> None:
        self.tickets.append(note)

    async def subscription_reminder(self, note: SubscriptionReminder) -> None:
        self.reminders.append(note)

    async def subscription_ended(self, note: SubscriptionEnded) -> None:
        self.ended.append(note)

    def total(self) -> int:
        return (
            len(self.activated)
            + len(self.canceled)
            + len(self.tickets)
            + len(self.reminders)
            + len(self.ended)
        )


class RecordingMailer:
    """A Mailer that keeps every message instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(
        self, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()
    ) -> MailResult:
        self.sent.append((to, subject))
        return MailResult.SENT


@dataclass
class World:
    """The shop's payment core wired to the local YooKassa, a real database and a test clock."""

    fake: FakeYooKassa
    gateway: YooKassaGateway
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: MovableClock
    notifier: RecordingNotifier
    mailer: RecordingMailer
    checkout: Checkout
    fulfilment: Fulfilment
    jobs: Jobs
    outbox: SendingLane


@pytest.fixture
async def yookassa() -> AsyncIterator[FakeYooKassa]:
    async with FakeYooKassa(shop_id="123456", secret_key="test_secret") as fake:
        # notification_url stays None: nothing reaches us unless a test applies it.
        yield fake


@pytest.fixture
async def world(
    yookassa: FakeYooKassa,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: MovableClock,
) -> AsyncIterator[World]:
    gateway = YooKassaGateway(
        shop_id=yookassa.shop_id,
        secret_key=yookassa.secret_key,
        api_url=yookassa.api_url,
        timeout=5.0,
        backoff=(0.05, 0.1, 0.2),
    )
    catalog = load_catalog()
    notifier = RecordingNotifier()
    mailer = RecordingMailer()
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
        mail_tickets=True,
    )
    jobs = Jobs(
        sessionmaker=sessionmaker,
        gateway=gateway,
        fulfilment=fulfilment,
        clock=clock,
    )
    try:
        async with recording_lane(sessionmaker, notifier, mailer=mailer, catalog=catalog) as outbox:
            yield World(
                fake=yookassa,
                gateway=gateway,
                sessionmaker=sessionmaker,
                clock=clock,
                notifier=notifier,
                mailer=mailer,
                checkout=checkout,
                fulfilment=fulfilment,
                jobs=jobs,
                outbox=outbox,
            )
    finally:
        reader.close()
        await gateway.close()


# ---- helpers ----------------------------------------------------------------------------


async def add_user(world: World, user_id: str, language: str = "ru") -> None:
    async with world.sessionmaker.begin() as session:
        session.add(User(id=user_id, first_name="A", language=language))


async def buy_monthly(world: World, user_id: str) -> CheckoutResult:
    return await world.checkout.start_subscription(user_id, "monthly", return_url="https://t.me/x")


async def stored(world: World, payment_id: str) -> Payment:
    async with world.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
    assert payment is not None
    return payment


async def subscription_of(world: World, user_id: str) -> Subscription | None:
    async with world.sessionmaker() as session:
        result = await session.execute(select(Subscription).where(Subscription.user_id == user_id))
        return result.scalar_one_or_none()


async def period_count(world: World) -> int:
    async with world.sessionmaker() as session:
        result = await session.execute(select(func.count()).select_from(SubscriptionPeriod))
        return int(result.scalar_one())


async def event_names(world: World, payment_id: str) -> list[str]:
    async with world.sessionmaker() as session:
        result = await session.execute(
            select(PaymentEvent.event)
            .where(PaymentEvent.payment_id == payment_id)
            .order_by(PaymentEvent.id)
        )
        return list(result.scalars())


async def grant(world: World, user_id: str, days: int) -> datetime:
    """Add days to a user's subscription from the clock's now; return the new expiry."""
    async with world.sessionmaker.begin() as session:
        extension = await extend_subscription(
            session, user_id=user_id, plan_code="monthly", days=days, now=world.clock.now()
        )
    return extension.expires_at


def asked_about(world: World, provider_id: str) -> int:
    """How many times we fetched a payment from YooKassa."""
    path = f"/v3/payments/{provider_id}"
    return sum(1 for r in world.fake.requests if r.method == "GET" and r.path == path)


def listed(world: World) -> int:
    """How many times we asked YooKassa for a list of payments."""
    return sum(1 for r in world.fake.requests if r.method == "GET" and r.path == "/v3/payments")


async def assert_delivered_once(
    world: World, result: CheckoutResult, user_id: str, *, late: bool = False
) -> None:
    """The payment succeeded and bought exactly one month, confirmed by exactly one message.

    `late`: it was paid after it had expired, which the customer was told, and the
    confirmation says it came late.
    """
    payment = await stored(world, result.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.cancel_reason is None
    subscription = await subscription_of(world, user_id)
    assert subscription is not None
    assert subscription.status == "active"
    assert subscription.expires_at == world.clock.now() + MONTH
    assert await period_count(world) == 1
    await settle(world.outbox)
    assert world.notifier.activated == [
        SubscriptionActivated(
            recipient=Recipient(user_id, "ru"),
            plan_code="monthly",
            days=30,
            expires_at=world.clock.now() + MONTH,
            amount=MONTHLY_PRICE,
            late=late,
        )
    ]
    assert [n.reason for n in world.notifier.canceled] == (["expired"] if late else [])
    assert world.mailer.sent == []  # a subscription is confirmed in the chat only


# ---- expire -----------------------------------------------------------------------------


async def test_expire_cancels_an_overdue_payment_still_pending_at_yookassa(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    world.clock.advance(minutes=16)

    report = await world.jobs.expire()

    assert report == SweepReport(seen=1, changed=1)
    payment = await stored(world, result.payment_id)
    assert (payment.status, payment.cancel_reason) == ("canceled", "expired")
    async with world.sessionmaker() as session:
        audit = (
            await session.execute(
                select(PaymentEvent).where(
                    PaymentEvent.payment_id == result.payment_id, PaymentEvent.event == "expired"
                )
            )
        ).scalar_one()
    assert (audit.source, audit.status_before, audit.status_after) == (
        "expiry",
        "pending",
        "canceled",
    )
    assert (audit.provider_id, audit.detail) == (result.provider_id, {})
    assert audit.created_at == world.clock.now()
    assert listed(world) == 2  # authorised and succeeded payments, asked once each
    assert world.fake.payments[result.provider_id]["status"] == "pending"
    assert await subscription_of(world, "3001") is None
    assert await period_count(world) == 0
    # The customer is told, once, that the time to pay ran out (and which payment).
    await settle(world.outbox)
    assert [(n.payment_id, n.reason) for n in world.notifier.canceled] == [
        (result.payment_id, "expired")
    ]
    assert world.notifier.total() == 1


async def test_expire_fulfils_a_paid_payment_whose_notification_was_lost(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    world.fake.lose_notifications(1)
    await world.fake.pay(result.provider_id)
    assert world.fake.dropped_notifications == [("payment.succeeded", result.provider_id)]
    world.clock.advance(minutes=16)

    report = await world.jobs.expire()

    assert report == SweepReport(seen=1, changed=1)
    await assert_delivered_once(world, result, "3001")
    payment = await stored(world, result.payment_id)
    assert payment.fulfilled_at == world.clock.now()
    assert payment.payment_method == "bank_card"


async def test_expire_twice_changes_nothing_the_second_time(world: World) -> None:
    await add_user(world, "3001")
    abandoned = await buy_monthly(world, "3001")
    paid = await buy_monthly(world, "3001")
    await world.fake.pay(paid.provider_id)
    world.clock.advance(minutes=16)

    first = await world.jobs.expire()
    second = await world.jobs.expire()

    assert first == SweepReport(seen=2, changed=2)
    assert second == SweepReport(seen=0, changed=0)
    assert (await stored(world, abandoned.payment_id)).cancel_reason == "expired"
    assert (await stored(world, paid.payment_id)).status == "succeeded"
    assert await period_count(world) == 1
    await settle(world.outbox)
    assert len(world.notifier.activated) == 1
    assert [n.payment_id for n in world.notifier.canceled] == [abandoned.payment_id]
    assert world.notifier.total() == 2  # the paid one confirmed, the abandoned one told


async def test_expire_waits_when_yookassa_cannot_be_asked(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    world.clock.advance(minutes=16)
    world.fake.fail_next(n=10_000, status=500, method="GET")

    report = await world.jobs.expire()

    assert report == SweepReport(seen=1, changed=0)
    assert (await stored(world, result.payment_id)).status == "pending"


async def test_expire_leaves_a_payment_within_its_ttl_alone(world: World) -> None:
    await add_user(world, "3001")
    old = await buy_monthly(world, "3001")
    world.clock.advance(minutes=10)
    fresh = await buy_monthly(world, "3001")
    world.clock.advance(minutes=6)  # old: 16 minutes, fresh: 6 minutes

    report = await world.jobs.expire()

    assert report == SweepReport(seen=1, changed=1)
    assert (await stored(world, old.payment_id)).status == "canceled"
    untouched = await stored(world, fresh.payment_id)
    assert (untouched.status, untouched.cancel_reason) == ("pending", None)
    assert untouched.expires_at == fresh.expires_at
    assert asked_about(world, fresh.provider_id) == 0


# ---- reconcile --------------------------------------------------------------------------


async def test_reconcile_asks_only_about_payments_older_than_three_minutes(
    world: World,
) -> None:
    await add_user(world, "3001")
    older = await buy_monthly(world, "3001")
    world.clock.advance(minutes=4)
    newer = await buy_monthly(world, "3001")
    await world.fake.pay(older.provider_id)
    await world.fake.pay(newer.provider_id)

    report = await world.jobs.reconcile()

    assert report == SweepReport(seen=1, changed=1)
    assert asked_about(world, older.provider_id) == 1
    assert asked_about(world, newer.provider_id) == 0
    await assert_delivered_once(world, older, "3001")
    assert (await stored(world, newer.payment_id)).status == "pending"

    world.clock.advance(minutes=4)
    assert await world.jobs.reconcile() == SweepReport(seen=1, changed=1)
    assert (await stored(world, newer.payment_id)).status == "succeeded"
    assert await period_count(world) == 2
    await settle(world.outbox)
    assert [note.expires_at for note in world.notifier.activated] == [
        world.clock.now() - timedelta(minutes=4) + MONTH,
        world.clock.now() - timedelta(minutes=4) + 2 * MONTH,  # renewal adds, loses nothing
    ]


async def test_reconcile_waits_on_a_payment_still_pending_at_yookassa(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    world.clock.advance(minutes=4)

    report = await world.jobs.reconcile()

    assert report == SweepReport(seen=1, changed=0)
    assert asked_about(world, result.provider_id) == 1
    assert (await stored(world, result.payment_id)).status == "pending"
    await settle(world.outbox)
    assert world.notifier.total() == 0


async def test_concurrent_reconcilers_fulfil_a_paid_payment_once(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    world.fake.lose_notifications(1)
    await world.fake.pay(result.provider_id)
    world.clock.advance(minutes=4)

    reports = await asyncio.gather(world.jobs.reconcile(), world.jobs.reconcile())

    assert [r.seen for r in reports] == [1, 1]
    assert sorted(r.changed for r in reports) == [0, 1]
    await assert_delivered_once(world, result, "3001")


# ---- fulfilment -------------------------------------------------------------------------


async def test_six_concurrent_applies_of_one_payment_fulfil_it_once(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    await world.fake.pay(result.provider_id)
    remote = await world.gateway.get_payment(result.provider_id)
    assert remote.status is PaymentStatus.SUCCEEDED

    applied = await asyncio.gather(
        *(world.fulfilment.apply(remote, source="webhook") for _ in range(6))
    )

    assert Counter(a.outcome for a in applied) == {Outcome.APPLIED: 1, Outcome.ALREADY: 5}
    assert {a.payment_id for a in applied} == {result.payment_id}
    await assert_delivered_once(world, result, "3001")
    events = await event_names(world, result.payment_id)
    assert events.count("succeeded") == 1
    assert events.count("repeat:succeeded") == 5


async def test_a_declined_payment_is_canceled_once_with_yookassas_reason(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    await world.fake.decline(result.provider_id, "card_expired")
    remote = await world.gateway.get_payment(result.provider_id)

    first = await world.fulfilment.apply(remote, source="webhook")
    again = await world.fulfilment.apply(remote, source="reconciler")

    assert (first.outcome, first.status) == (Outcome.APPLIED, PaymentStatus.CANCELED)
    assert again.outcome is Outcome.ALREADY
    payment = await stored(world, result.payment_id)
    assert (payment.status, payment.cancel_reason) == ("canceled", "provider:card_expired")
    await settle(world.outbox)
    assert world.notifier.canceled == [
        PaymentCanceled(
            Recipient("3001", "ru"), result.payment_id, "provider:card_expired", "subscription"
        )
    ]
    assert world.notifier.activated == []
    assert await subscription_of(world, "3001") is None


async def test_insufficient_funds_is_the_stored_reason_of_a_default_decline(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    await world.fake.decline(result.provider_id)

    applied = await world.fulfilment.refresh(result.payment_id, source="status")

    assert applied.outcome is Outcome.APPLIED
    payment = await stored(world, result.payment_id)
    assert payment.cancel_reason == "provider:insufficient_funds"
    await settle(world.outbox)
    assert [n.reason for n in world.notifier.canceled] == ["provider:insufficient_funds"]


async def test_an_amount_that_disagrees_with_ours_activates_nothing(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    await world.fake.pay(result.provider_id)
    world.fake.payments[result.provider_id]["amount"]["value"] = "1.00"
    remote = await world.gateway.get_payment(result.provider_id)
    assert remote.amount == Decimal("1.00")

    applied = await world.fulfilment.apply(remote, source="webhook")

    assert (applied.outcome, applied.status) == (Outcome.MISMATCH, PaymentStatus.PENDING)
    assert (await stored(world, result.payment_id)).status == "pending"
    assert await subscription_of(world, "3001") is None
    assert await period_count(world) == 0
    await settle(world.outbox)
    assert world.notifier.total() == 0
    assert "mismatch:succeeded" in await event_names(world, result.payment_id)
    # The sweeps ask again and still refuse to deliver what was not paid in full.
    world.clock.advance(minutes=16)
    assert (await world.jobs.reconcile()).changed == 0
    assert (await world.jobs.expire()).changed == 0
    assert await period_count(world) == 0
    await settle(world.outbox)
    assert world.notifier.total() == 0


async def test_a_late_success_after_our_expiry_is_still_delivered(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    world.clock.advance(minutes=16)
    assert await world.jobs.expire() == SweepReport(seen=1, changed=1)
    assert (await stored(world, result.payment_id)).cancel_reason == "expired"
    await world.fake.pay(result.provider_id)
    remote = await world.gateway.get_payment(result.provider_id)

    applied = await world.fulfilment.apply(remote, source="webhook")

    assert (applied.outcome, applied.status) == (Outcome.APPLIED, PaymentStatus.SUCCEEDED)
    await assert_delivered_once(world, result, "3001", late=True)


async def test_a_late_payment_whose_notification_was_lost_is_found_by_the_recheck(
    world: World,
) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    world.clock.advance(minutes=16)
    assert await world.jobs.expire() == SweepReport(seen=1, changed=1)
    assert await world.jobs.reconcile() == SweepReport(seen=0, changed=0)
    await world.fake.pay(result.provider_id)  # no notification_url: nothing is delivered

    assert await world.jobs.recheck_abandoned() == SweepReport(seen=1, changed=1)
    await assert_delivered_once(world, result, "3001", late=True)
    world.clock.advance(hours=2)
    assert await world.jobs.recheck_abandoned() == SweepReport(seen=0, changed=0)


# ---- remind -----------------------------------------------------------------------------


async def test_reminders_go_three_days_and_one_day_before_expiry_once_each(
    world: World,
) -> None:
    await add_user(world, "3001", language="en")
    expires_at = await grant(world, "3001", days=30)
    assert await world.jobs.remind() == SweepReport(seen=0, changed=0)

    world.clock.advance(days=27, hours=12)  # 2.5 days left
    assert await world.jobs.remind() == SweepReport(seen=1, changed=1)
    assert await world.jobs.remind() == SweepReport(seen=0, changed=0)
    world.clock.advance(days=2)  # 12 hours left
    assert await world.jobs.remind() == SweepReport(seen=1, changed=1)
    assert await world.jobs.remind() == SweepReport(seen=0, changed=0)

    await settle(world.outbox)
    assert world.notifier.reminders == [
        SubscriptionReminder(Recipient("3001", "en"), expires_at, 3),
        SubscriptionReminder(Recipient("3001", "en"), expires_at, 1),
    ]
    assert world.notifier.total() == 2


async def test_a_subscription_found_within_a_day_gets_only_the_one_day_reminder(
    world: World,
) -> None:
    await add_user(world, "3001")
    expires_at = await grant(world, "3001", days=1)
    world.clock.advance(hours=12)

    assert await world.jobs.remind() == SweepReport(seen=1, changed=1)
    assert await world.jobs.remind() == SweepReport(seen=0, changed=0)

    await settle(world.outbox)
    assert world.notifier.reminders == [
        SubscriptionReminder(Recipient("3001", "ru"), expires_at, 1)
    ]


async def test_a_renewal_lets_reminders_go_again_for_the_new_expiry(world: World) -> None:
    await add_user(world, "3001")
    first_expiry = await grant(world, "3001", days=30)
    world.clock.advance(days=28)  # 2 days left
    assert (await world.jobs.remind()).changed == 1

    renewed_expiry = await grant(world, "3001", days=30)
    assert renewed_expiry == first_expiry + MONTH
    assert (await world.jobs.remind()).changed == 0  # 32 days left now

    world.clock.advance(days=30)  # 2 days left of the renewed period
    assert (await world.jobs.remind()).changed == 1
    world.clock.advance(days=1, hours=12)  # 12 hours left
    assert (await world.jobs.remind()).changed == 1
    assert (await world.jobs.remind()).changed == 0

    await settle(world.outbox)
    assert [(n.expires_at, n.days_left) for n in world.notifier.reminders] == [
        (first_expiry, 3),
        (renewed_expiry, 3),
        (renewed_expiry, 1),
    ]


# ---- lapse ------------------------------------------------------------------------------


async def test_lapse_ends_an_overdue_subscription_once(world: World) -> None:
    await add_user(world, "3001", language="en")
    await add_user(world, "3002")
    ending = await grant(world, "3001", days=1)
    running = await grant(world, "3002", days=30)
    world.clock.advance(days=1, minutes=1)

    assert await world.jobs.lapse() == SweepReport(seen=1, changed=1)
    assert await world.jobs.lapse() == SweepReport(seen=0, changed=0)

    ended = await subscription_of(world, "3001")
    assert ended is not None
    assert (ended.status, ended.expires_at) == ("expired", ending)
    still = await subscription_of(world, "3002")
    assert still is not None
    assert (still.status, still.expires_at) == ("active", running)
    await settle(world.outbox)
    assert world.notifier.ended == [SubscriptionEnded(Recipient("3001", "en"))]
    assert world.notifier.total() == 1

    reader = Reader(world.sessionmaker.kw["bind"])
    account = Account(
        sessionmaker=world.sessionmaker,
        reader=reader,
        clock=world.clock,
        tz=SHOP_TZ,
        signer=TicketSigner(new_seed()),
    )
    summary = (await account.summary("3001")).subscription
    assert summary is not None
    assert (summary.status, summary.expires_at) == (SubscriptionStatus.EXPIRED, ending)
    other = (await account.summary("3002")).subscription
    assert other is not None
    assert other.status is SubscriptionStatus.ACTIVE


async def test_lapse_ends_many_subscriptions_in_chunks_each_owner_told_once(world: World) -> None:
    # A launch day's subscriptions end on one day: more than two chunks of them at once.
    owners = [str(4000 + n) for n in range(2 * LAPSE_CHUNK + 50)]
    async with world.sessionmaker.begin() as session:
        session.add_all(User(id=uid, first_name="A", language="en") for uid in owners)
    for uid in owners:
        await grant(world, uid, days=1)
    world.clock.advance(days=1, minutes=1)
    # Customers keep writing meanwhile (here: signing up); on SQLite each write waits for the
    # one writer connection, so one sweep-long transaction would keep every one of them out.
    lapsing, written_meanwhile = True, 0

    async def customers_writing() -> None:
        nonlocal written_meanwhile
        for n in itertools.count():
            async with world.sessionmaker.begin() as session:
                session.add(User(id=f"9{n:05}", first_name="B", language="ru"))
            written_meanwhile += lapsing

    others = asyncio.create_task(customers_writing())
    await asyncio.sleep(0)
    written_meanwhile = 0
    report = await world.jobs.lapse()
    lapsing = False
    others.cancel()
    assert report == SweepReport(seen=len(owners), changed=len(owners))
    assert written_meanwhile >= len(owners) // LAPSE_CHUNK, written_meanwhile  # between chunks
    assert await world.jobs.lapse() == SweepReport(seen=0, changed=0)
    async with world.sessionmaker() as session:
        statuses = (await session.execute(select(Subscription.status))).scalars()
        assert Counter(statuses) == {"expired": len(owners)}
    await settle(world.outbox)
    assert sorted(note.recipient.user_id for note in world.notifier.ended) == owners
    assert {note.recipient.language for note in world.notifier.ended} == {"en"}


async def test_lapse_leaves_a_subscription_before_its_expiry_alone(world: World) -> None:
    await add_user(world, "3001")
    await grant(world, "3001", days=1)
    world.clock.advance(hours=23, minutes=59)

    assert await world.jobs.lapse() == SweepReport(seen=0, changed=0)

    subscription = await subscription_of(world, "3001")
    assert subscription is not None
    assert subscription.status == "active"
    await settle(world.outbox)
    assert world.notifier.ended == []
