"""A plan's price for one customer: their cohort, the admins' overrides, the catalog."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models_subscriptions import CohortPrice
from db.repositories.subscriptions import customer_facts
from payments.catalog import Catalog, Plan
from payments.checkout.draft import CheckoutConfig
from payments.ports import Clock
from payments.pricing import CustomerFacts, cohort_of, is_test_user, plan_description, plan_price
from payments.types import Cohort, PriceQuote


async def customer_cohort(
    session: AsyncSession, user_id: str, *, clock: Clock, config: CheckoutConfig
) -> Cohort:
    """Return the cohort a customer is in now."""
    active, had, paid = await customer_facts(session, user_id, clock.now())
    facts = CustomerFacts(
        is_test=is_test_user(user_id, config.test_user_ids),
        has_active_subscription=active,
        had_subscription=had,
        has_paid=paid,
    )
    return cohort_of(facts)


async def quote_plan(
    session: AsyncSession,
    user_id: str,
    plan: Plan,
    *,
    catalog: Catalog,
    clock: Clock,
    config: CheckoutConfig,
) -> PriceQuote:
    """Return a plan's price and payment description for this customer."""
    cohort = await customer_cohort(session, user_id, clock=clock, config=config)
    overrides = await price_overrides(session)
    amount = plan_price(catalog, plan, cohort, overrides)
    description = plan_description(
        catalog.shop.name,
        plan,
        amount,
        is_test=cohort is Cohort.TEST,
        sandbox=config.sandbox,
    )
    return PriceQuote(plan.code, cohort, amount, description)


async def price_overrides(session: AsyncSession) -> dict[tuple[str, str], Decimal]:
    """Return the admins' price overrides by (cohort, plan)."""
    result = await session.execute(select(CohortPrice))
    return {(row.cohort, row.plan_code): row.amount for row in result.scalars()}
