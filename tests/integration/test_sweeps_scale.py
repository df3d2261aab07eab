"""The sweeps at scale, on a migrated database with the real gateway against the local
YooKassa: the expiry sweep over several chunks and racing a webhook, the reconciler going
round every open payment however many there are, a few YooKassa checks at a time.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta

from sqlalchemy import insert, select

from db.models import Payment, PaymentEvent
from payments.checkout.results import CheckoutResult
from payments.jobs import BATCH, RECONCILE_PARALLEL, Jobs
from payments.rounds import SweepReport
from tests.integration.test_jobs import (
    World,
    add_user,
    asked_about,
    assert_delivered_once,
    buy_monthly,
    period_count,
    stored,
)
from tests.integration.test_jobs import world as world  # noqa: F401, PLC0414  (fixture)
from tests.integration.test_jobs import yookassa as yookassa  # noqa: F401, PLC0414  (fixture)
from tests.loop_probe import LoopProbe
from tests.outbox_kit import settle


def jobs_with(world: World, *, expire_chunk: int) -> Jobs:
    """The sweeps of `world` with another chunk size."""
    return Jobs(
        sessionmaker=world.sessionmaker,
        gateway=world.gateway,
        fulfilment=world.fulfilment,
        wake=world.outbox.wake,
        clock=world.clock,
        expire_chunk=expire_chunk,
    )


async def open_payments_like(world: World, template: CheckoutResult, n: int) -> list[str]:
    """Make n more open payments like `template`, known to YooKassa too, made 10 minutes
    before it (so they come first in creation order); return their provider ids."""
    original = await stored(world, template.payment_id)
    remote = world.fake.payments[template.provider_id]
    columns = {
        column.key: getattr(original, column.key)
        for column in Payment.__table__.columns
        if column.key not in ("id", "provider_id", "idempotence_key")
    }
    columns["extra"] = dict(original.extra)
    rows, provider_ids = [], []
    for i in range(n):
        payment_id = f"ZT_9{i:09d}"
        provider_id = f"{i:08x}-000f-5000-8000-{template.provider_id[-12:]}"
        created = original.created_at - timedelta(minutes=10)
        rows.append(
            columns
            | {
                "id": payment_id,
                "provider_id": provider_id,
                "idempotence_key": payment_id,
                "created_at": created,
                "expires_at": original.expires_at,
            }
        )
        twin = copy.deepcopy(remote)
        twin["id"] = provider_id
        twin["metadata"] = {**twin.get("metadata", {}), "payment_id": payment_id}
        world.fake.payments[provider_id] = twin
        provider_ids.append(provider_id)
    async with world.sessionmaker.begin() as session:
        await session.execute(insert(Payment), rows)
    return provider_ids


# ---- the reconciler ---------------------------------------------------------------------


async def test_a_payment_beyond_the_first_500_is_reconciled(world: World) -> None:
    await add_user(world, "3001")
    paid = await buy_monthly(world, "3001")
    await open_payments_like(world, paid, BATCH)  # 500 older open payments ahead of it
    await world.fake.pay(paid.provider_id)  # and its notification never comes
    world.clock.advance(minutes=4)

    first = await world.jobs.reconcile()

    assert first == SweepReport(seen=BATCH, changed=0)  # the 500 oldest, still unpaid
    assert asked_about(world, paid.provider_id) == 0
    assert (await stored(world, paid.payment_id)).status == "pending"

    second = await world.jobs.reconcile()

    # The next run goes on from where the first stopped: the newest one comes up.
    assert second == SweepReport(seen=BATCH, changed=1)
    assert asked_about(world, paid.provider_id) == 1
    await assert_delivered_once(world, paid, "3001")


async def test_every_open_payment_is_checked_once_per_round(world: World) -> None:
    await add_user(world, "3001")
    template = await buy_monthly(world, "3001")
    others = await open_payments_like(world, template, 7)
    world.clock.advance(minutes=4)
    reports = [await world.jobs.reconcile() for _ in range(2)]

    # 8 open payments, fewer than a batch: every run checks each of them exactly once.
    assert reports == [SweepReport(8, 0), SweepReport(8, 0)]
    assert [asked_about(world, pid) for pid in [template.provider_id, *others]] == [2] * 8


async def test_at_most_a_few_checks_are_in_flight_at_once(world: World) -> None:
    await add_user(world, "3001")
    template = await buy_monthly(world, "3001")
    await open_payments_like(world, template, 3 * RECONCILE_PARALLEL)
    world.clock.advance(minutes=4)
    world.fake.slow(0.05)  # each answer takes a while, so checks overlap if they can
    world.fake.max_in_flight = 0

    report = await world.jobs.reconcile()

    assert report == SweepReport(seen=3 * RECONCILE_PARALLEL + 1, changed=0)
    # Side by side, never more than the bound (on a loaded machine the overlap may not reach it).
    assert 1 < world.fake.max_in_flight <= RECONCILE_PARALLEL


# ---- the expiry sweep -------------------------------------------------------------------


async def test_the_expiry_sweep_settles_every_chunk_and_each_payment_once(world: World) -> None:
    await add_user(world, "3001")
    abandoned = [await buy_monthly(world, "3001") for _ in range(7)]
    paid = await buy_monthly(world, "3001")
    world.fake.lose_notifications(1)
    await world.fake.pay(paid.provider_id)
    world.clock.advance(minutes=16)
    jobs = jobs_with(world, expire_chunk=2)

    first = await jobs.expire()
    again = await jobs.expire()

    assert first == SweepReport(seen=8, changed=8)
    assert again == SweepReport(seen=0, changed=0)
    for result in abandoned:
        payment = await stored(world, result.payment_id)
        assert (payment.status, payment.cancel_reason) == ("canceled", "expired")
    await settle(world.outbox)
    assert sorted(str(n.payment_id) for n in world.notifier.canceled) == sorted(
        r.payment_id for r in abandoned
    )
    assert (await stored(world, paid.payment_id)).status == "succeeded"
    assert await period_count(world) == 1
    assert len(world.notifier.activated) == 1
    async with world.sessionmaker() as session:
        found = await session.execute(
            select(PaymentEvent.payment_id).where(PaymentEvent.event == "expired")
        )
        audit = [str(payment_id) for payment_id in found.scalars()]
    assert sorted(audit) == sorted(r.payment_id for r in abandoned)  # one event each


async def test_a_backlog_of_overdue_payments_expires_without_stalling_the_loop(
    world: World,
) -> None:
    # On SQLite a chunk runs on the event loop from its UPDATE to its commit. A backlog of
    # 2 000 (the bench's seeded shop) once held every customer and an admin's /stats for
    # 0.5 s per chunk under load; each chunk is now sized to stay short. Since the notices
    # are written by the database a chunk of 2 000 takes ~25 ms here, so the backlog and the
    # largest chunk allowed are 16 000: one chunk of it holds the loop for most of the sweep.
    await add_user(world, "3001")
    template = await buy_monthly(world, "3001")
    await open_payments_like(world, template, 16_000)
    world.clock.advance(minutes=16)
    jobs = jobs_with(world, expire_chunk=16_001)
    loop = asyncio.get_running_loop()

    async with LoopProbe() as probe:
        started = loop.time()
        report = await jobs.expire()
        took = loop.time() - started

    assert report == SweepReport(seen=16_001, changed=16_001)
    assert took > 15 * probe.tick, "the sweep was too quick to tell anything"
    # Chunks of 16 000 from the first one (not sized by time) would fail this.
    assert probe.worst < took / 3, (probe.worst, took)


async def test_a_webhook_racing_the_sweep_fulfils_exactly_once(world: World) -> None:
    await add_user(world, "3001")
    early = await buy_monthly(world, "3001")  # paid before the sweep, notification late
    during = await buy_monthly(world, "3001")  # paid while the sweep is under way
    abandoned = [await buy_monthly(world, "3001") for _ in range(3)]
    world.fake.lose_notifications(1)
    await world.fake.pay(early.provider_id)
    world.clock.advance(minutes=16)
    held = world.fake.hold("GET", "/v3/payments", query={"status": "succeeded"})
    sweep = asyncio.create_task(jobs_with(world, expire_chunk=1).expire())
    await asyncio.wait_for(held.arrived.wait(), 10)

    # While the sweep waits for YooKassa's list, both notifications arrive and are applied.
    await world.fake.pay(during.provider_id)
    for result in (early, during):
        remote = await world.gateway.get_payment(result.provider_id)
        applied = await world.fulfilment.apply(remote, source="webhook")
        assert applied.outcome.value == "applied"
    held.release.set()
    report = await asyncio.wait_for(sweep, 30)

    assert report.seen == 5
    assert report.changed == 3  # the three abandoned; the paid ones were already settled
    for result in (early, during):
        assert (await stored(world, result.payment_id)).status == "succeeded"
    assert await period_count(world) == 2
    await settle(world.outbox)
    assert len(world.notifier.activated) == 2
    assert sorted(str(n.payment_id) for n in world.notifier.canceled) == sorted(
        r.payment_id for r in abandoned
    )
