"""Auto-renewal on a migrated database with the real gateway and SDK against the local
YooKassa: consent, the saved card, one charge per period, declines, retries, grace and lapse.
Time moves through the test clock (the fake YooKassa reads it too).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, PaymentEvent, User
from db.models_subscriptions import Renewal, RenewalConsent, Subscription
from db.reader import Reader
from payments.catalog import load_catalog
from payments.checkout.draft import CheckoutConfig
from payments.checkout.flow import Checkout
from payments.fulfilment import Fulfilment
from payments.jobs import Jobs
from payments.outbox.lane import SendingLane
from payments.ports import RenewalFailed
from payments.subscriptions.consent import AutoRenewal, AutoRenewConsent
from payments.subscriptions.outcomes import RenewalPolicy
from payments.subscriptions.renewal import RenewalConfig, Renewals
from payments.tickets.signing import TicketSigner, new_seed
from payments.yookassa.gateway import YooKassaGateway
from tests.conftest import MovableClock
from tests.fakes.yookassa_api import FakeYooKassa
from tests.integration.test_jobs import RecordingNotifier
from tests.outbox_kit import recording_lane, settle

MONTH = timedelta(days=30)
CONSENT = AutoRenewConsent(text_version="terms-v1", channel="bot")
CHECKOUT = CheckoutConfig(
    sandbox=False,
    ttl_minutes=15,
    pending_limit=10,
    pending_window_minutes=5,
    fallback_email_domain="burlive.ru",
    test_user_ids=frozenset(),
)


class Notes(RecordingNotifier):
    """Every customer message, declined renewals too."""

    def __init__(self) -> None:
        super().__init__()
        self.declined: list[RenewalFailed] = []

    async def renewal_failed(self, note: RenewalFailed) -> None:
        self.declined.append(note)


@dataclass
class Shop:
    """The payment core, the renewal sweep and the customer's switches on one database."""

    fake: FakeYooKassa
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: MovableClock
    notes: Notes
    checkout: Checkout
    fulfilment: Fulfilment
    jobs: Jobs
    renewals: Renewals
    # A second instance's sweep on the same database and YooKassa.
    renewals_2: Renewals
    switches: AutoRenewal
    outbox: SendingLane


@pytest.fixture
async def shop(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> AsyncIterator[Shop]:
    async with FakeYooKassa(shop_id="123456", secret_key="test_secret") as fake:
        fake.clock = clock.now
        gateway = YooKassaGateway(
            shop_id=fake.shop_id,
            secret_key=fake.secret_key,
            api_url=fake.api_url,
            timeout=5.0,
            backoff=(0.05, 0.1, 0.2),
        )
        catalog = load_catalog()
        notes = Notes()
        reader = Reader(sessionmaker.kw["bind"])
        fulfilment = Fulfilment(
            sessionmaker=sessionmaker,
            gateway=gateway,
            catalog=catalog,
            clock=clock,
            reader=reader,
            signer=TicketSigner(new_seed()),
            renewal_policy=RenewalPolicy(retry_days=(1, 3, 5), grace=timedelta(days=3)),
        )

        def sweep() -> Renewals:
            return Renewals(
                sessionmaker=sessionmaker,
                gateway=gateway,
                fulfilment=fulfilment,
                catalog=catalog,
                clock=clock,
                checkout=CHECKOUT,
                config=RenewalConfig(lead=timedelta(hours=24)),
            )

        try:
            async with recording_lane(sessionmaker, notes) as outbox:
                yield Shop(
                    fake=fake,
                    sessionmaker=sessionmaker,
                    clock=clock,
                    notes=notes,
                    checkout=Checkout(
                        tz=ZoneInfo("Europe/Moscow"),
                        sessionmaker=sessionmaker,
                        gateway=gateway,
                        catalog=catalog,
                        clock=clock,
                        config=CHECKOUT,
                    ),
                    fulfilment=fulfilment,
                    jobs=Jobs(
                        sessionmaker=sessionmaker,
                        gateway=gateway,
                        fulfilment=fulfilment,
                        clock=clock,
                    ),
                    renewals=sweep(),
                    renewals_2=sweep(),
                    switches=AutoRenewal(sessionmaker=sessionmaker, clock=clock),
                    outbox=outbox,
                )
        finally:
            reader.close()
            await gateway.close()


# ---- helpers ----------------------------------------------------------------------------


async def buy(shop: Shop, user_id: str, *, auto_renew: bool) -> str:
    """A customer buys the monthly plan (with or without consent) and pays; return our id."""
    async with shop.sessionmaker.begin() as session:
        session.add(User(id=user_id, first_name="A", language="ru", email="a@example.com"))
    result = await shop.checkout.start_subscription(
        user_id, "monthly", return_url="https://t.me/x", auto_renew=CONSENT if auto_renew else None
    )
    await shop.fake.pay(result.provider_id)
    await shop.fulfilment.refresh(result.payment_id, source="webhook")
    return result.payment_id


async def subscription(shop: Shop, user_id: str) -> Subscription:
    async with shop.sessionmaker() as session:
        found = await session.execute(select(Subscription).where(Subscription.user_id == user_id))
        return found.scalar_one()


async def renewals_of(shop: Shop) -> list[Renewal]:
    async with shop.sessionmaker() as session:
        return list((await session.execute(select(Renewal).order_by(Renewal.id))).scalars())


def creates(shop: Shop) -> list[dict[str, Any]]:
    """The bodies of every payment creation YooKassa received (retries of one key once)."""
    seen: dict[str | None, dict[str, Any]] = {}
    for r in shop.fake.requests:
        if r.method == "POST" and r.path == "/v3/payments":
            seen.setdefault(r.idempotence_key, r.body)
    return list(seen.values())


def charges(shop: Shop) -> list[dict[str, Any]]:
    """The charges of a saved method YooKassa received (distinct idempotence keys)."""
    return [body for body in creates(shop) if body.get("payment_method_id")]


def charged_at_yookassa(shop: Shop) -> int:
    """Payments YooKassa made by a saved method (what the customer's bank would show)."""
    return (
        sum(
            1
            for p in shop.fake.payments.values()
            if p.get("payment_method", {}).get("saved") and p["status"] == "succeeded"
        )
        - 1
    )  # the first purchase saved the card


async def period_count(shop: Shop) -> int:
    from db.models_subscriptions import SubscriptionPeriod

    async with shop.sessionmaker() as session:
        result = await session.execute(select(func.count()).select_from(SubscriptionPeriod))
        return int(result.scalar_one())


async def at_charge_time(shop: Shop, user_id: str) -> datetime:
    """Move the clock to 23 hours before the subscription ends (inside the 24 h lead)."""
    ends = (await subscription(shop, user_id)).expires_at
    shop.clock.set(ends - timedelta(hours=23))
    return ends


# ---- consent and the saved card -----------------------------------------------------------


async def test_consented_purchase_saves_the_card_and_renews_once_when_two_sweeps_race(
    shop: Shop,
) -> None:
    await buy(shop, "501", auto_renew=True)
    first = creates(shop)[0]
    assert first["save_payment_method"] is True
    sub = await subscription(shop, "501")
    assert sub.auto_renew is True
    assert sub.renew_method_title == "Карта *4444"
    assert sub.renew_method_id in shop.fake.saved_methods
    async with shop.sessionmaker() as session:
        consent = (await session.execute(select(RenewalConsent))).scalar_one()
    assert (consent.text_version, consent.channel, consent.subscription_id) == (
        "terms-v1",
        "bot",
        sub.id,
    )

    ends = await at_charge_time(shop, "501")
    await asyncio.gather(shop.renewals.run(), shop.renewals_2.run())
    await asyncio.gather(shop.renewals.run(), shop.renewals_2.run())

    [charge] = charges(shop)
    assert charge["payment_method_id"] == sub.renew_method_id
    assert charge["capture"] is True
    assert "confirmation" not in charge
    assert charge["receipt"]["items"][0]["amount"]["value"] == charge["amount"]["value"]
    [renewal] = await renewals_of(shop)
    assert renewal.status == "succeeded"
    assert charge["amount"]["value"] == f"{renewal.amount:.2f}"
    after = await subscription(shop, "501")
    assert after.expires_at == ends + MONTH
    assert await period_count(shop) == 2
    await settle(shop.outbox)
    assert len(shop.notes.activated) == 2  # the purchase and the renewal, once each


async def test_one_off_purchase_never_saves_a_card_or_renews(shop: Shop) -> None:
    await buy(shop, "502", auto_renew=False)
    assert "save_payment_method" not in creates(shop)[0]
    sub = await subscription(shop, "502")
    assert (sub.auto_renew, sub.renew_method_id, sub.renew_method_title) == (False, None, None)
    await at_charge_time(shop, "502")
    await shop.renewals.run()
    assert await renewals_of(shop) == []
    assert charges(shop) == []


async def test_yookassa_answering_500_once_charges_once(shop: Shop) -> None:
    await buy(shop, "503", auto_renew=True)
    ends = await at_charge_time(shop, "503")
    # The charge is made, but the answer is lost: the gateway asks again with the same key.
    shop.fake.fail_next(1, 500, path_contains="/v3/payments", method="POST", after_processing=True)
    await shop.renewals.run()
    await shop.renewals.run()
    assert charged_at_yookassa(shop) == 1
    assert (await subscription(shop, "503")).expires_at == ends + MONTH
    assert await period_count(shop) == 2


# ---- declines -----------------------------------------------------------------------------


async def test_declined_renewal_retries_on_schedule_keeps_access_through_grace_then_lapses(
    shop: Shop,
) -> None:
    await buy(shop, "504", auto_renew=True)
    sub = await subscription(shop, "504")
    assert sub.renew_method_id is not None
    shop.fake.fail_method(sub.renew_method_id, "insufficient_funds", n=None)
    ends = await at_charge_time(shop, "504")
    first_try = shop.clock.now()

    await shop.renewals.run()
    assert len(charges(shop)) == 1
    await settle(shop.outbox)
    [note] = shop.notes.declined
    assert note.reason == "insufficient_funds"
    assert note.next_attempt_at == first_try + timedelta(days=1)
    assert note.auto_renew_off is False
    assert note.grace_until == ends + timedelta(days=3)

    tries = [first_try]
    for day in (1, 3, 5):
        shop.clock.set(first_try + timedelta(days=day) - timedelta(minutes=1))
        await shop.renewals.run()
        assert len(charges(shop)) == len(tries), f"charged before day {day}"
        shop.clock.set(first_try + timedelta(days=day))
        await shop.renewals.run()
        tries.append(shop.clock.now())
        assert len(charges(shop)) == len(tries)
        await shop.jobs.lapse()
        now = shop.clock.now()
        current = await subscription(shop, "504")
        if now < ends + timedelta(days=3):
            assert current.status == "active", "access is kept through the grace"
        else:
            assert current.status == "expired"
            assert current.renewal_state == "lapsed"
    await settle(shop.outbox)
    assert len(shop.notes.ended) == 1
    [renewal] = await renewals_of(shop)
    assert (renewal.status, renewal.attempts) == ("failed", 4)
    shop.clock.set(first_try + timedelta(days=30))
    await shop.renewals.run()
    assert len(charges(shop)) == 4  # no more tries
    async with shop.sessionmaker() as session:
        events = await session.execute(
            select(PaymentEvent.event).where(PaymentEvent.payment_id.like("ZT_%"))
        )
        logged = list(events.scalars())
    assert logged.count("canceled") == 4  # every attempt is in its payment's event log


async def test_paying_by_link_after_a_decline_restores_once_and_stops_the_retries(
    shop: Shop,
) -> None:
    await buy(shop, "505", auto_renew=True)
    sub = await subscription(shop, "505")
    assert sub.renew_method_id is not None
    shop.fake.fail_method(sub.renew_method_id, "insufficient_funds", n=None)
    ends = await at_charge_time(shop, "505")
    await shop.renewals.run()
    await settle(shop.outbox)
    [note] = shop.notes.declined

    shop.clock.set(ends + timedelta(hours=5))  # past the end, within the grace
    await shop.jobs.lapse()
    assert (await subscription(shop, "505")).status == "active"
    paid = await shop.checkout.pay_renewal("505", note.renewal_id, return_url="https://t.me/x")
    await shop.fake.pay(paid.provider_id)
    await shop.fulfilment.refresh(paid.payment_id, source="webhook")
    await shop.fulfilment.refresh(paid.payment_id, source="reconciler")

    after = await subscription(shop, "505")
    assert after.expires_at == ends + MONTH, "the period continues from the renewed end"
    assert after.grace_until is None
    assert await period_count(shop) == 2
    shop.clock.set(ends + timedelta(days=6))
    await shop.renewals.run()
    assert len(charges(shop)) == 1, "no retry after the renewal was paid"


async def test_revoked_permission_turns_auto_renewal_off_at_once(shop: Shop) -> None:
    await buy(shop, "506", auto_renew=True)
    sub = await subscription(shop, "506")
    assert sub.renew_method_id is not None
    shop.fake.revoke_method(sub.renew_method_id)
    await at_charge_time(shop, "506")
    await shop.renewals.run()
    await settle(shop.outbox)
    [note] = shop.notes.declined
    assert note.auto_renew_off is True
    assert note.next_attempt_at is None
    after = await subscription(shop, "506")
    assert (after.auto_renew, after.renew_method_id) == (False, None)
    shop.clock.advance(days=10)
    await shop.renewals.run()
    assert len(charges(shop)) == 1


# ---- turning it off -----------------------------------------------------------------------


async def test_turning_auto_renewal_off_in_the_notice_window_prevents_the_charge(
    shop: Shop,
) -> None:
    await buy(shop, "507", auto_renew=True)
    ends = (await subscription(shop, "507")).expires_at
    shop.clock.set(ends - timedelta(days=2))  # the notice is out, the charge not yet
    await shop.renewals.run()
    [renewal] = await renewals_of(shop)
    assert renewal.status == "scheduled"
    assert await shop.switches.turn_off("507") is True
    await at_charge_time(shop, "507")
    await shop.renewals.run()
    assert charges(shop) == []
    [renewal] = await renewals_of(shop)
    assert renewal.status == "stopped"
    assert (await subscription(shop, "507")).expires_at == ends  # the current period is kept


async def test_a_sweep_that_read_the_renewal_before_the_turn_off_does_not_charge(
    shop: Shop,
) -> None:
    await buy(shop, "508", auto_renew=True)
    ends = (await subscription(shop, "508")).expires_at
    shop.clock.set(ends - timedelta(days=2))
    await shop.renewals.run()
    # As the sweep sees it: the renewal still scheduled, but auto-renewal already off.
    async with shop.sessionmaker.begin() as session:
        await session.execute(
            update(Subscription).where(Subscription.user_id == "508").values(auto_renew=False)
        )
    await at_charge_time(shop, "508")
    await shop.renewals.run()
    assert charges(shop) == []
    async with shop.sessionmaker() as session:
        count = await session.execute(
            select(func.count()).select_from(Payment).where(Payment.source == "renewal")
        )
    assert count.scalar_one() == 0


async def test_a_period_bought_in_the_notice_window_is_not_charged_again(shop: Shop) -> None:
    """A customer who pays the next month by hand (or with a new card) while a renewal waits is
    not charged for that month again: the waiting renewal is superseded, the next one is due
    at the new end, and it is charged once."""
    await buy(shop, "509", auto_renew=True)
    ends = (await subscription(shop, "509")).expires_at
    shop.clock.set(ends - timedelta(days=2))
    await shop.renewals.run()
    [waiting] = await renewals_of(shop)
    assert waiting.status == "scheduled"
    bought = await shop.checkout.start_subscription(
        "509", "monthly", return_url="https://t.me/x", auto_renew=None
    )
    await shop.fake.pay(bought.provider_id)
    await shop.fulfilment.refresh(bought.payment_id, source="webhook")
    new_end = (await subscription(shop, "509")).expires_at
    assert new_end == ends + timedelta(days=30)
    shop.clock.set(ends - timedelta(hours=23))  # the old charge time
    await shop.renewals.run()
    assert charges(shop) == []
    [superseded, *later] = await renewals_of(shop)
    assert (superseded.status, later) == ("superseded", [])
    await at_charge_time(shop, "509")  # the new end's charge time
    await shop.renewals.run()
    assert len(charges(shop)) == 1
    assert (await subscription(shop, "509")).expires_at == new_end + timedelta(days=30)
