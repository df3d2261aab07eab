"""A paid plan adds its days to the customer's subscription."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment
from db.repositories.subscriptions import extend_subscription
from payments.catalog import Catalog
from payments.ports import Recipient, SubscriptionActivated


async def activate_subscription(
    session: AsyncSession,
    payment: Payment,
    recipient: Recipient,
    *,
    catalog: Catalog,
    now: datetime,
    continues: datetime | None = None,
) -> SubscriptionActivated:
    """Extend the subscription by the paid plan's days; return the customer's note.

    `continues`: a renewal's period start; paid within the grace, the period starts there.
    """
    plan = catalog.plan(payment.plan_code or "")
    days = plan.days if plan else 30
    extension = await extend_subscription(
        session,
        user_id=payment.user_id,
        plan_code=payment.plan_code or "",
        days=days,
        now=now,
        payment_id=payment.id,
        continues=continues,
    )
    return SubscriptionActivated(
        recipient=recipient,
        plan_code=payment.plan_code or "",
        days=days,
        expires_at=extension.expires_at,
        amount=payment.amount,
    )
