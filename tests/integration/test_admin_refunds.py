"""Refunds from the bot (payments/admin/refunds.py) on a migrated database, with the real gateway
and SDK against the local YooKassa: races between admins, and lapsed subscriptions."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.models import Payment
from db.models_subscriptions import Subscription
from payments.admin.results import Refusal
from tests.integration.admin_console import Console, paid_monthly
from tests.outbox_kit import settle


async def test_two_admins_refunding_at_once_refund_once(console: Console) -> None:
    payment_id, _ = await paid_monthly(console, "1001")
    outcomes = await asyncio.gather(
        console.refunds.refund(1, payment_id),
        console.refunds.refund(2, payment_id),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(refused) == 1
    assert refused[0].reason in {"refund_in_progress", "refund_too_much", "refund_nothing_left"}
    assert len(console.fake.refunds) == 1
    async with console.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
    assert payment is not None and payment.refunded_amount == Decimal("299.00")
    await settle(console.outbox)
    assert len(console.notifier.refunds) == 1


async def test_a_lapsed_subscription_is_not_shortened_further(console: Console) -> None:
    payment_id, _ = await paid_monthly(console, "1004")
    console.clock.advance(days=31)
    async with console.sessionmaker() as session:
        before = (await session.execute(select(Subscription))).scalar_one().expires_at
    result = await console.refunds.refund(1, payment_id, Decimal("100.00"))
    assert not result.subscription_active
    async with console.sessionmaker() as session:
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert sub.expires_at == before
    await settle(console.outbox)
    assert console.notifier.refunds[-1].subscription_ended


async def test_two_confirmations_of_one_payment_confirmed_at_once_refund_once(
    console: Console,
) -> None:
    payment_id, _ = await paid_monthly(console, "1005")
    first = await console.refund_drafts.draft(1, payment_id, Decimal("100.00"))
    second = await console.refund_drafts.draft(2, payment_id, Decimal("100.00"))
    assert console.fake.refunds == {}  # previews move no money
    outcomes = await asyncio.gather(
        console.refund_drafts.confirm(1, first.draft_id),
        console.refund_drafts.confirm(2, second.draft_id),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(refused) == 1, outcomes
    assert refused[0].reason in {"refund_changed", "refund_in_progress"}
    assert len(console.fake.refunds) == 1
    async with console.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
    assert payment is not None and payment.refunded_amount == Decimal("100.00")
    # Each confirmation is used up, whatever its outcome.
    for draft in (first, second):
        with pytest.raises(Refusal) as again:
            await console.refund_drafts.confirm(1, draft.draft_id)
        assert again.value.reason == "refund_draft_gone"
    assert len(console.fake.refunds) == 1
