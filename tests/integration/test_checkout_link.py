"""A checkout's second transaction: YooKassa's id and pay link stored with the event that says
so, and on PostgreSQL in one statement that is its own transaction (no BEGIN or COMMIT sent:
each waited a turn of a busy event loop in a sale rush). The payment core on a real database
and the local YooKassa.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.pool import ConnectionPoolEntry

from db.engine import create_engine, create_sessionmaker
from db.models import PaymentEvent
from payments.catalog import load_catalog
from payments.checkout.flow import Checkout
from tests.integration.test_jobs import SHOP_TZ, World, add_user, buy_monthly, stored
from tests.integration.test_jobs import world as world  # noqa: F401, PLC0414  (fixture)
from tests.integration.test_jobs import yookassa as yookassa  # noqa: F401, PLC0414  (fixture)
from tests.integration.test_renewal import CHECKOUT


async def test_the_link_is_stored_with_the_event_that_says_so(world: World) -> None:
    await add_user(world, "901")

    result = await buy_monthly(world, "901")

    payment = await stored(world, result.payment_id)
    assert (payment.provider_id, payment.confirmation_url) == (
        result.provider_id,
        result.confirmation_url,
    )
    async with world.sessionmaker() as session:
        events = (
            await session.execute(
                select(PaymentEvent.event, PaymentEvent.provider_id, PaymentEvent.status_after)
                .where(PaymentEvent.payment_id == result.payment_id)
                .order_by(PaymentEvent.id)
            )
        ).all()
    assert [tuple(e) for e in events] == [
        ("created", None, "pending"),
        ("provider_created", result.provider_id, "pending"),
    ]


@pytest.mark.services
async def test_on_postgresql_the_link_is_one_statement_outside_any_transaction(
    world: World, database_url: str
) -> None:
    assert database_url.startswith("postgresql"), "this test needs the services run's PostgreSQL"
    # A checkout of its own on an engine of its own, whose connections log what asyncpg sends
    # as plain statements (BEGIN, COMMIT; the others go as prepared statements, not logged).
    engine = create_engine(database_url)
    sent: list[str] = []

    @event.listens_for(engine.sync_engine, "connect")
    def _log(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        driver = record.driver_connection
        assert driver is not None
        driver.add_query_logger(lambda logged: sent.append(logged.query.split()[0].rstrip(";")))

    checkout = Checkout(
        tz=SHOP_TZ,
        sessionmaker=create_sessionmaker(engine),
        gateway=world.gateway,
        catalog=load_catalog(),
        clock=world.clock,
        config=CHECKOUT,
    )
    await add_user(world, "902")
    try:
        result = await checkout.start_subscription("902", "monthly", return_url="https://t.me/x")
    finally:
        await engine.dispose()

    assert (await stored(world, result.payment_id)).confirmation_url == result.confirmation_url
    assert sent == ["BEGIN", "COMMIT"]  # tx 1, the pending row; then the link's one statement
