"""Applying YooKassa's refunds once (payments/admin/settlement.py): refunds made in the dashboard
and refunds of payments that are not ours, with the real gateway and SDK against the local
YooKassa."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.models import Payment, Refund
from db.models_subscriptions import Subscription
from payments.admin.results import Refusal
from payments.admin.settlement import RefundOutcome
from payments.types import PaymentRequest, Receipt, ReceiptLine
from tests.integration.admin_console import Console, paid_monthly
from tests.outbox_kit import settle


async def test_a_refund_made_in_the_dashboard_is_recorded_and_applied(console: Console) -> None:
    payment_id, provider_id = await paid_monthly(console, "1002")
    async with console.sessionmaker() as session:
        before = (await session.execute(select(Subscription))).scalar_one().expires_at
    line = ReceiptLine("Подписка", 1, Decimal("99.67"), 1, "service", "full_payment")
    remote = await console.gateway.create_refund(
        provider_id, Decimal("99.67"), "dashboard-1", receipt=Receipt((line,), "a@example.com")
    )
    applied = await console.settlement.apply_refund(remote, source="webhook")
    assert applied.outcome is RefundOutcome.APPLIED
    again = await console.settlement.apply_refund(remote, source="webhook")
    assert again.outcome is RefundOutcome.ALREADY
    async with console.sessionmaker() as session:
        payment = await session.get(Payment, payment_id)
        row = (await session.execute(select(Refund))).scalar_one()
        sub = (await session.execute(select(Subscription))).scalar_one()
    assert payment is not None and payment.refunded_amount == Decimal("99.67")
    assert (row.provider_id, row.requested_by, row.status) == (remote.id, None, "succeeded")
    assert sub.expires_at == before - timedelta(days=10)  # round(30 × 99.67 / 299) = 10
    await settle(console.outbox)
    assert [n.amount for n in console.notifier.refunds] == [Decimal("99.67")]
    # What is left can still be refunded from the bot, and no more.
    with pytest.raises(Refusal) as refusal:
        await console.refunds.refund(1, payment_id, Decimal("199.34"))
    assert refusal.value.values["left"] == Decimal("199.33")


async def test_a_refund_of_a_payment_that_is_not_ours_changes_nothing(console: Console) -> None:
    await paid_monthly(console, "1003")
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
    applied = await console.settlement.apply_refund(remote, source="webhook")
    assert applied.outcome is RefundOutcome.UNKNOWN
    async with console.sessionmaker() as session:
        assert (await session.execute(select(Refund))).scalars().all() == []
