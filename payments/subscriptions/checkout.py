"""Plan checkout, tx 1: the pending one-stage payment for a plan at this customer's price."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment, User
from db.models_subscriptions import Renewal
from payments.catalog import Catalog, Plan
from payments.checkout.draft import CheckoutConfig, Draft, add_pending_payment, receipt_contact
from payments.ports import Clock
from payments.pricing import is_test_user, plan_description
from payments.receipts import single_line
from payments.subscriptions.consent import AutoRenewConsent, consent_detail, record_consent
from payments.subscriptions.outcomes import RENEWAL_KEY
from payments.subscriptions.quotes import quote_plan
from payments.types import Cohort, PaymentKind, PaymentRequest

# A renewal the customer may pay by hand: declined and waiting for a retry, or given up on.
PAYABLE = ("retry", "failed", "stopped")


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
    consent: AutoRenewConsent | None = None,
) -> Draft:
    """Write a plan's pending payment (`capture: true`) and return the request for YooKassa.

    With the customer's auto-renewal `consent`, it is stored and YooKassa is asked to save
    the method; a one-off purchase asks for nothing of the kind.
    """
    quote = await quote_plan(session, user.id, plan, catalog=catalog, clock=clock, config=config)
    now = clock.now()
    expires_at = now + timedelta(minutes=config.ttl_minutes)
    receipt_email, receipt_phone = receipt_contact(user, email, phone, config.fallback_email_domain)
    is_test = quote.cohort is Cohort.TEST
    payment = Payment(
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
    )
    detail: dict[str, object] = {"plan": plan.code, "cohort": quote.cohort.value}
    if consent is not None:
        detail.update(consent_detail(consent))
    add_pending_payment(session, payment, now=now, detail=detail)
    if consent is not None:
        await session.flush()  # the consent refers to the payment
        record_consent(session, payment, consent, days=plan.days, now=now)
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
        save_payment_method=consent is not None,
    )
    return Draft(payment_id, request, expires_at, is_test)


class RenewalNotPayable(Exception):
    """The renewal is not this customer's, or it is already paid or still being charged."""


async def renewal_draft(
    session: AsyncSession,
    user: User,
    payment_id: str,
    renewal_id: int,
    *,
    catalog: Catalog,
    clock: Clock,
    config: CheckoutConfig,
    return_url: str,
    source: str,
) -> Draft:
    """Write the pending payment that pays a declined renewal by link, at its stated price."""
    renewal = await session.get(Renewal, renewal_id)
    if renewal is None or renewal.user_id != user.id or renewal.status not in PAYABLE:
        raise RenewalNotPayable(str(renewal_id))
    plan = catalog.plan(renewal.plan_code)
    if plan is None:
        raise RenewalNotPayable(str(renewal_id))
    now = clock.now()
    expires_at = now + timedelta(minutes=config.ttl_minutes)
    receipt_email, receipt_phone = receipt_contact(user, None, None, config.fallback_email_domain)
    is_test = is_test_user(user.id, config.test_user_ids)
    description = plan_description(
        catalog.shop.name, plan, renewal.amount, is_test=is_test, sandbox=config.sandbox
    )
    payment = Payment(
        id=payment_id,
        kind=PaymentKind.SUBSCRIPTION,
        user_id=user.id,
        plan_code=plan.code,
        amount=renewal.amount,
        is_test=is_test,
        description=description,
        return_url=return_url,
        customer_email=user.email,
        customer_phone=user.phone,
        source=source,
        expires_at=expires_at,
    )
    add_pending_payment(session, payment, now=now, detail={"renewal": renewal.key, "by": "link"})
    payment.extra = {**payment.extra, RENEWAL_KEY: renewal.id}
    await session.flush()
    request = PaymentRequest(
        idempotence_key=payment_id,
        amount=renewal.amount,
        description=description,
        return_url=return_url,
        capture=True,
        metadata={
            "payment_id": payment_id,
            "userId": user.id,
            "product": plan.code,
            "kind": PaymentKind.SUBSCRIPTION.value,
            "renewal": str(renewal.id),
        },
        receipt_lines=[single_line(catalog, PaymentKind.SUBSCRIPTION, description, renewal.amount)],
        receipt_email=receipt_email,
        receipt_phone=receipt_phone,
    )
    return Draft(payment_id, request, expires_at, is_test)
