"""Plan checkout, tx 1: the pending one-stage payment for a plan at this customer's price."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment, User
from payments.catalog import Catalog, Plan
from payments.checkout.draft import CheckoutConfig, Draft, add_pending_payment, receipt_contact
from payments.ports import Clock
from payments.receipts import single_line
from payments.subscriptions.quotes import quote_plan
from payments.types import Cohort, PaymentKind, PaymentRequest


async def plan_draft(
    session: AsyncSession,
    user: User,
    payment_id: str,
    plan: Plan,
    *,
    catalog: Catalog,
    clock: Clock,
    config: CheckoutConfig,
    return_url: str,
    source: str,
    email: str | None,
    phone: str | None,
) -> Draft:
    """Write a plan's pending payment (`capture: true`) and return the request for YooKassa."""
    quote = await quote_plan(session, user.id, plan, catalog=catalog, clock=clock, config=config)
    now = clock.now()
    expires_at = now + timedelta(minutes=config.ttl_minutes)
    receipt_email, receipt_phone = receipt_contact(user, email, phone, config.fallback_email_domain)
    is_test = quote.cohort is Cohort.TEST
    add_pending_payment(
        session,
        Payment(
            id=payment_id,
            kind=PaymentKind.SUBSCRIPTION,
            user_id=user.id,
            plan_code=plan.code,
            cohort=quote.cohort.value,
            amount=quote.amount,
            is_test=is_test,
            description=quote.description,
            return_url=return_url,
            customer_email=email or user.email,
            customer_phone=phone or user.phone,
            source=source,
            expires_at=expires_at,
        ),
        now=now,
        detail={"plan": plan.code, "cohort": quote.cohort.value},
    )
    await session.flush()
    request = PaymentRequest(
        idempotence_key=payment_id,
        amount=quote.amount,
        description=quote.description,
        return_url=return_url,
        capture=True,
        metadata={
            "payment_id": payment_id,
            "userId": user.id,
            "product": plan.code,
            "kind": PaymentKind.SUBSCRIPTION.value,
        },
        receipt_lines=[
            single_line(catalog, PaymentKind.SUBSCRIPTION, quote.description, quote.amount)
        ],
        receipt_email=receipt_email,
        receipt_phone=receipt_phone,
    )
    return Draft(payment_id, request, expires_at, is_test)
