"""Cohorts and prices: pure functions over facts the caller loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from payments.catalog import Catalog, Plan
from payments.money import plain
from payments.types import Cohort

TEST_PREFIX = "[ТЕСТ] "
SANDBOX_SUFFIX = " [SANDBOX]"
DESCRIPTION_LIMIT = 128


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What decides a customer's cohort."""

    is_test: bool
    has_active_subscription: bool
    had_subscription: bool
    has_paid: bool


def is_test_user(user_id: str, test_ids: frozenset[str]) -> bool:
    """Return whether a user is a test user (seed rule: listed, or the id contains `test`)."""
    return user_id in test_ids or "test" in user_id.lower()


def cohort_of(facts: CustomerFacts) -> Cohort:
    """Return the cohort: test, active, returning, regular (paid before) or new."""
    if facts.is_test:
        return Cohort.TEST
    if facts.has_active_subscription:
        return Cohort.ACTIVE
    if facts.had_subscription:
        return Cohort.RETURNING
    if facts.has_paid:
        return Cohort.REGULAR
    return Cohort.NEW


def plan_price(
    catalog: Catalog,
    plan: Plan,
    cohort: Cohort,
    overrides: Mapping[tuple[str, str], Decimal],
) -> Decimal:
    """Return a plan's price for a cohort: test price, admin override, catalog, base price."""
    if cohort is Cohort.TEST:
        return catalog.shop.test_price
    override = overrides.get((cohort.value, plan.code))
    if override is not None:
        return override
    return catalog.cohort_price(cohort, plan.code) or plan.price


def days_ru(days: int) -> str:
    """Return `30 дней`, `1 день`, `2 дня` with the right Russian plural."""
    tail = days % 100
    if 11 <= tail <= 14:  # noqa: PLR2004 - Russian plural rule
        word = "дней"
    elif days % 10 == 1:
        word = "день"
    elif 2 <= days % 10 <= 4:  # noqa: PLR2004
        word = "дня"
    else:
        word = "дней"
    return f"{days} {word}"


def mark(description: str, *, is_test: bool, sandbox: bool) -> str:
    """Prefix test payments with `[ТЕСТ] ` and suffix sandbox ones, within YooKassa's 128."""
    prefix = TEST_PREFIX if is_test else ""
    suffix = SANDBOX_SUFFIX if sandbox else ""
    room = DESCRIPTION_LIMIT - len(prefix) - len(suffix)
    return f"{prefix}{description[:room]}{suffix}"


def plan_description(
    shop_name: str, plan: Plan, amount: Decimal, *, is_test: bool, sandbox: bool
) -> str:
    """Describe a plan payment as the seed does: `Shop - месячная подписка (30 дней) • 299 ₽`."""
    base = f"{shop_name} - {plan.title_ru} ({days_ru(plan.days)}) • {plain(amount)} ₽"
    return mark(base, is_test=is_test, sandbox=sandbox)
