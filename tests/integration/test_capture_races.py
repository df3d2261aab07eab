"""No needless cancel (issue 11): a worker that lost the race to capture a two-stage payment
never asks YooKassa to cancel the payment the winner just captured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from db.models import Ticket
from db.reader import Reader
from payments.catalog import load_catalog
from payments.fulfilment import Fulfilment, Outcome
from payments.tickets.rules import TicketRules
from payments.tickets.signing import TicketSigner, new_seed
from payments.types import PaymentStatus
from tests.integration.test_jobs import SHOP_TZ, World, add_user, stored, world, yookassa
from tests.outbox_kit import settle

__all__ = ["world", "yookassa"]  # the fixtures, shared with test_jobs


class PausingReader(Reader):
    """A real Reader that stops after its first read until the test lets it go on.

    It only decides *when* the worker continues, so the test can put the other worker's whole
    capture between this worker's look-up and its transaction, as two instances may.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.paused = asyncio.Event()
        self.resume = asyncio.Event()

    async def rows(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        # The look-up of a notification's payment is the first read (a column read).
        rows = await super().rows(statement, params)
        if not self.paused.is_set():
            self.paused.set()
            await self.resume.wait()
        return rows


async def test_a_worker_that_lost_the_capture_race_sends_no_cancel(world: World) -> None:
    catalog = load_catalog()
    await add_user(world, "3101")
    visit = (world.clock.now() + timedelta(days=1)).astimezone(SHOP_TZ).date()
    order = TicketRules(catalog, SHOP_TZ).validate(visit, "10:00", {"adult": 2}, world.clock.now())
    started = await world.checkout.start_tickets("3101", order, return_url="https://t.me/x")
    provider_id = started.result.provider_id
    await world.fake.pay(provider_id)
    remote = await world.gateway.get_payment(provider_id)
    assert remote.status is PaymentStatus.WAITING_FOR_CAPTURE
    reader = PausingReader(world.sessionmaker.kw["bind"])
    late = Fulfilment(
        sessionmaker=world.sessionmaker,
        gateway=world.gateway,
        catalog=catalog,
        clock=world.clock,
        reader=reader,
        signer=TicketSigner(new_seed()),
    )
    try:
        # The late worker has looked the payment up (still pending) ...
        loser = asyncio.create_task(late.apply(remote, source="webhook"))
        await reader.paused.wait()
        # ... when the other captures it and delivers the tickets.
        won = await world.fulfilment.apply(remote, source="reconciler")
        assert (won.outcome, won.status) == (Outcome.APPLIED, PaymentStatus.SUCCEEDED)
        reader.resume.set()
        lost = await loser
    finally:
        reader.close()

    assert (lost.outcome, lost.status) == (Outcome.ALREADY, PaymentStatus.SUCCEEDED)
    cancels = [r for r in world.fake.requests if r.path.endswith(f"{provider_id}/cancel")]
    assert cancels == []
    assert world.fake.payments[provider_id]["status"] == "succeeded"
    assert (await stored(world, started.result.payment_id)).status == "succeeded"
    async with world.sessionmaker() as session:
        issued = await session.execute(select(func.count(Ticket.id)))
    assert issued.scalar_one() == 2
    await settle(world.outbox)
    assert len(world.notifier.tickets) == 1
