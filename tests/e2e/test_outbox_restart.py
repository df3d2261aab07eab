"""A crash between a payment's commit and its confirmation loses nothing: the outbox keeps it.

The first instance runs without a sending lane (OUTBOX_SENDER off), as if it died right after
committing the payment; the customer's confirmation is then delivered by the next instance.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from db.models import Payment
from db.models_outbox import OutboxMessage
from tests.e2e.conftest import Shop, ShopFactory
from tests.e2e.test_subscriptions import _choose_plan, _pay_url, _provider_id

CONFIRMED = "активна до"


async def _succeeded(shop: Shop, provider_id: str) -> None:
    """Wait until the payment is committed as succeeded (the webhook did its work)."""
    async with asyncio.timeout(10):
        while True:
            async with shop.service.sessionmaker() as session:
                status = await session.scalar(
                    select(Payment.status).where(Payment.provider_id == provider_id)
                )
            if status == "succeeded":
                return
            await asyncio.sleep(0.05)


async def test_the_confirmation_arrives_after_a_crash_between_commit_and_send(
    make_shop: ShopFactory,
) -> None:
    first = await make_shop(OUTBOX_SENDER=False)
    user = first.telegram.user(2601, first_name="Анна")
    url = await _pay_url(user, await _choose_plan(user, "299 ₽"))
    provider_id = _provider_id(url)
    await first.yookassa.pay(provider_id)
    await _succeeded(first, provider_id)

    await first.service.stop()
    # Committed with its message, and nothing sent it: this instance had no lane.
    async with first.service.sessionmaker() as session:
        [row] = (await session.execute(select(OutboxMessage))).scalars().all()
    assert (row.kind, row.status, row.chat_id) == ("subscription_activated", "pending", 2601)
    assert not any(CONFIRMED in (m.text or "") for m in user.messages)
    await first.service.database.engine.dispose()

    second = await make_shop()
    await user.wait_for(lambda m: CONFIRMED in (m.text or ""), timeout=10)
    async with asyncio.timeout(10):
        await second.service.payments.outbox.drain()
    async with second.service.sessionmaker() as session:
        [row] = (await session.execute(select(OutboxMessage))).scalars().all()
    assert row.status == "sent"
    assert sum(CONFIRMED in (m.text or "") for m in user.messages) == 1
