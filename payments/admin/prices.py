"""Prices for /prices and /setprice: each plan's price per cohort, and the admins' overrides."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models_subscriptions import CohortPrice
from db.repositories.dialect import insert_for
from payments.admin import audit
from payments.admin.results import Refusal
from payments.catalog import Catalog
from payments.money import wire
from payments.ports import Clock
from payments.pricing import plan_price
from payments.subscriptions.quotes import price_overrides
from payments.types import Cohort

MAX_PRICE = Decimal("1000000.00")
SETTABLE_COHORTS = (Cohort.NEW, Cohort.RETURNING, Cohort.ACTIVE, Cohort.REGULAR)


@dataclass(frozen=True, slots=True)
class CohortPriceView:
    """A plan's price for one cohort and where it comes from: override, catalog or base."""

    cohort: str
    amount: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class PlanPrices:
    """A plan's base price and its price per cohort."""

    code: str
    days: int
    base: Decimal
    cohorts: tuple[CohortPriceView, ...]


@dataclass(frozen=True, slots=True)
class PriceList:
    """Every plan's prices, and what test users pay."""

    plans: tuple[PlanPrices, ...]
    test_price: Decimal


@dataclass(frozen=True, slots=True)
class PriceChange:
    """A cohort price before and after `/setprice`."""

    cohort: str
    plan_code: str
    old: Decimal
    new: Decimal


class Prices:
    """Show and set the plans' prices per cohort."""

    def __init__(
        self, *, sessionmaker: async_sessionmaker[AsyncSession], catalog: Catalog, clock: Clock
    ) -> None:
        """Keep the collaborators."""
        self._sessionmaker = sessionmaker
        self._catalog = catalog
        self._clock = clock

    async def _price_list(self, session: AsyncSession) -> PriceList:
        overrides = await price_overrides(session)
        plans = []
        for plan in self._catalog.rouble_plans:  # digital plans have one price, in Stars
            cohorts = []
            for cohort in SETTABLE_COHORTS:
                if (cohort.value, plan.code) in overrides:
                    source = "override"
                elif self._catalog.cohort_price(cohort, plan.code) is not None:
                    source = "catalog"
                else:
                    source = "base"
                amount = plan_price(self._catalog, plan, cohort, overrides)
                cohorts.append(CohortPriceView(cohort.value, amount, source))
            plans.append(PlanPrices(plan.code, plan.days, plan.price, tuple(cohorts)))
        return PriceList(tuple(plans), self._catalog.shop.test_price)

    async def prices(self, admin_id: int) -> PriceList:
        """Return every plan's price per cohort, with the admins' overrides applied."""
        async with self._sessionmaker() as session:
            prices = await self._price_list(session)
        await audit.record(self._sessionmaker, self._clock, admin_id, "prices", None, {}, "shown")
        return prices

    async def set_price(
        self, admin_id: int, cohort: str, plan_code: str, amount: Decimal
    ) -> PriceChange:
        """Set a plan's price for a cohort; the next checkout of that cohort pays it."""
        args: dict[str, Any] = {"cohort": cohort, "plan": plan_code, "amount": wire(amount)}
        target = f"{cohort}/{plan_code}"[:64]
        cohorts = [c.value for c in SETTABLE_COHORTS]
        plan = self._catalog.plan(plan_code)
        if plan is not None and plan.digital:
            plan = None  # sold for Stars at the catalog's price: no cohort prices
        refusal = None
        if cohort not in cohorts:
            refusal = Refusal(
                "unknown_cohort", f"no cohort {cohort!r}", cohort=cohort, cohorts=", ".join(cohorts)
            )
        elif plan is None:
            plans = ", ".join(p.code for p in self._catalog.rouble_plans)
            refusal = Refusal("unknown_plan", f"no plan {plan_code!r}", plan=plan_code, plans=plans)
        elif amount <= 0 or amount > MAX_PRICE or amount.as_tuple().exponent != -2:
            refusal = Refusal("bad_price", f"bad amount {amount}", max=MAX_PRICE)
        if refusal is not None:
            await audit.refuse(
                self._sessionmaker, self._clock, admin_id, "setprice", target, args, refusal
            )
        assert plan is not None  # noqa: S101 - refused above otherwise
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            before = await self._price_list(session)
            old = next(
                c.amount
                for p in before.plans
                if p.code == plan_code
                for c in p.cohorts
                if c.cohort == cohort
            )
            stmt = insert_for(session, CohortPrice).values(
                cohort=cohort,
                plan_code=plan_code,
                amount=amount,
                updated_at=now,
                updated_by=admin_id,
            )
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[CohortPrice.cohort, CohortPrice.plan_code],
                    set_={"amount": amount, "updated_at": now, "updated_by": admin_id},
                )
            )
            await audit.record(
                self._sessionmaker,
                self._clock,
                admin_id,
                "setprice",
                target,
                args,
                f"{wire(old)} -> {wire(amount)}",
                session,
            )
        return PriceChange(cohort, plan_code, old, amount)
