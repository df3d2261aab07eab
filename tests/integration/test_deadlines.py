"""The open payments' deadlines (`payment_deadlines`): the list the expiry sweep and the
reconciler work from, now that no index of `payments` holds a status (migration 0010)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text

from db.engine import create_engine
from db.migrate import upgrade
from db.models import PaymentDeadline
from db.repositories import payments as payments_repo
from payments.fulfilment import REVIVABLE
from payments.rounds import SweepReport
from payments.types import PaymentStatus
from tests.integration.test_jobs import World, add_user, buy_monthly, listed, stored
from tests.integration.test_jobs import world as world  # noqa: F401, PLC0414  (fixture)
from tests.integration.test_jobs import yookassa as yookassa  # noqa: F401, PLC0414  (fixture)

WAITING = PaymentStatus.WAITING_FOR_CAPTURE


async def deadlines(world: World) -> dict[str, datetime]:
    async with world.sessionmaker() as session:
        rows = await session.execute(select(PaymentDeadline.payment_id, PaymentDeadline.expires_at))
        return {row.payment_id: row.expires_at for row in rows}


async def move(world: World, payment_id: str, to: str, *, revive: bool = False) -> None:
    """Move a payment as fulfilment does (one conditional UPDATE)."""
    async with world.sessionmaker.begin() as session:
        moved = await payments_repo.transition(
            session,
            payment_id,
            to=to,
            from_statuses=(PaymentStatus.PENDING,),
            revive_reasons=REVIVABLE if revive else (),
        )
    assert moved


async def test_a_new_payment_gets_its_deadline_and_loses_it_once_it_is_due_and_finished(
    world: World,
) -> None:
    await add_user(world, "3001")
    paid = await buy_monthly(world, "3001")
    abandoned = await buy_monthly(world, "3001")
    assert await deadlines(world) == {
        paid.payment_id: paid.expires_at,
        abandoned.payment_id: abandoned.expires_at,
    }
    await world.fake.pay(paid.provider_id)
    await world.fulfilment.apply(
        await world.gateway.get_payment(paid.provider_id), source="webhook"
    )
    assert (await stored(world, paid.payment_id)).status == PaymentStatus.SUCCEEDED
    world.clock.advance(minutes=16)

    assert await world.jobs.expire() == SweepReport(seen=1, changed=1)

    assert (await stored(world, abandoned.payment_id)).cancel_reason == "expired"
    assert await deadlines(world) == {}  # the canceled one's, and the paid one's once due


async def test_a_paid_payments_deadline_goes_when_nothing_is_overdue(world: World) -> None:
    await add_user(world, "3001")
    paid = await buy_monthly(world, "3001")
    await world.fake.pay(paid.provider_id)
    await world.fulfilment.apply(
        await world.gateway.get_payment(paid.provider_id), source="webhook"
    )
    world.clock.advance(minutes=16)

    assert await world.jobs.expire() == SweepReport(seen=0, changed=0)

    assert await deadlines(world) == {}
    assert listed(world) == 0  # nothing overdue: YooKassa is not asked


async def test_a_payment_waiting_for_capture_keeps_its_deadline_for_the_reconciler(
    world: World,
) -> None:
    await add_user(world, "3001")
    held = await buy_monthly(world, "3001")
    await move(world, held.payment_id, WAITING)  # authorised; the capture has not happened
    world.clock.advance(minutes=16)

    assert await world.jobs.expire() == SweepReport(seen=0, changed=0)
    assert await world.jobs.expire() == SweepReport(seen=0, changed=0)  # ends, still left

    assert (await stored(world, held.payment_id)).status == WAITING
    assert list(await deadlines(world)) == [held.payment_id]
    assert await world.jobs.reconcile() == SweepReport(seen=1, changed=0)


async def test_a_canceled_payment_authorised_after_all_is_on_the_list_again(
    world: World,
) -> None:
    await add_user(world, "3001")
    late = await buy_monthly(world, "3001")
    world.clock.advance(minutes=16)
    assert await world.jobs.expire() == SweepReport(seen=1, changed=1)
    assert await deadlines(world) == {}
    assert await world.jobs.reconcile() == SweepReport(seen=0, changed=0)

    await move(world, late.payment_id, WAITING, revive=True)

    assert list(await deadlines(world)) == [late.payment_id]
    assert await world.jobs.reconcile() == SweepReport(seen=1, changed=0)


async def test_a_payment_given_a_new_expiry_moves_its_deadline(world: World) -> None:
    await add_user(world, "3001")
    result = await buy_monthly(world, "3001")
    later = result.expires_at.replace(year=result.expires_at.year + 1)
    async with world.sessionmaker.begin() as session:
        await payments_repo.set_fields(session, result.payment_id, expires_at=later)

    assert await deadlines(world) == {result.payment_id: later}
    world.clock.advance(minutes=16)
    assert await world.jobs.expire() == SweepReport(seen=0, changed=0)
    assert (await stored(world, result.payment_id)).status == PaymentStatus.PENDING


# A new database is needed: PostgreSQL's fixture hands out a clone of a migrated template.
@pytest.mark.sqlite_only
async def test_the_migration_lists_the_open_payments_already_stored(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0009")
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO users (id, first_name, language, language_chosen, created_at) "
                "VALUES ('3001', 'A', 'ru', false, '2026-12-05 10:00:00+00:00')"
            )
            await connection.execute(
                text(
                    "INSERT INTO payments (id, idempotence_key, kind, user_id, plan_code, "
                    "amount, refunded_amount, currency, status, is_test, description, source, "
                    "metadata, created_at, updated_at, expires_at) VALUES (:id, :id, "
                    "'subscription', '3001', 'monthly', 299.00, 0.00, 'RUB', :status, false, "
                    "'x', 'bot', '{}', :at, :at, :at)"
                ),
                [
                    {"id": f"ZT_000000000{n}", "status": status, "at": "2026-12-05 10:00:00+00"}
                    for n, status in enumerate(
                        ("pending", "waiting_for_capture", "succeeded", "canceled"), start=1
                    )
                ],
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            listed = await connection.exec_driver_sql(
                "SELECT payment_id FROM payment_deadlines ORDER BY payment_id"
            )
            assert list(listed.scalars()) == ["ZT_0000000001", "ZT_0000000002"]
    finally:
        await engine.dispose()
