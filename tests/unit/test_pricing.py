"""Cohorts, prices and descriptions as the seed writes them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments.catalog import load_catalog
from payments.pricing import CustomerFacts, cohort_of, days_ru, plan_description, plan_price
from payments.types import Cohort

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("facts", "cohort"),
    [
        (CustomerFacts(True, True, True, True), Cohort.TEST),
        (CustomerFacts(False, True, True, True), Cohort.ACTIVE),
        (CustomerFacts(False, False, True, True), Cohort.RETURNING),
        (CustomerFacts(False, False, False, True), Cohort.REGULAR),
        (CustomerFacts(False, False, False, False), Cohort.NEW),
    ],
)
def test_cohorts(facts: CustomerFacts, cohort: Cohort) -> None:
    assert cohort_of(facts) is cohort


def test_price_order_test_then_override_then_catalog_then_base() -> None:
    monthly = CATALOG.plan("monthly")
    assert monthly is not None
    assert plan_price(CATALOG, monthly, Cohort.TEST, {}) == Decimal("10.00")
    assert plan_price(CATALOG, monthly, Cohort.RETURNING, {}) == Decimal("249.00")
    overrides = {("returning", "monthly"): Decimal("199.00")}
    assert plan_price(CATALOG, monthly, Cohort.RETURNING, overrides) == Decimal("199.00")
    assert plan_price(CATALOG, monthly, Cohort.NEW, overrides) == Decimal("299.00")


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (1, "1 день"),
        (2, "2 дня"),
        (5, "5 дней"),
        (11, "11 дней"),
        (21, "21 день"),
        (30, "30 дней"),
        (90, "90 дней"),
        (365, "365 дней"),
        (22, "22 дня"),
    ],
)
def test_russian_plural(days: int, text: str) -> None:
    assert days_ru(days) == text


def test_descriptions_as_in_the_seed() -> None:
    plans = {p.code: p for p in CATALOG.plans}
    assert plan_description(
        "Инглиш в ТГ", plans["monthly"], Decimal("299.00"), is_test=False, sandbox=False
    ) == ("Инглиш в ТГ - месячная подписка (30 дней) • 299 ₽")
    assert plan_description(
        "Инглиш в ТГ", plans["yearly"], Decimal("2999.00"), is_test=False, sandbox=False
    ) == ("Инглиш в ТГ - годовая подписка (365 дней) • 2999 ₽")
    assert plan_description(
        "Инглиш в ТГ", plans["monthly"], Decimal("10.00"), is_test=True, sandbox=False
    ) == ("[ТЕСТ] Инглиш в ТГ - месячная подписка (30 дней) • 10 ₽")
    sandboxed = plan_description(
        "Z", plans["monthly"], Decimal("10.00"), is_test=True, sandbox=True
    )
    assert sandboxed.startswith("[ТЕСТ] ")
    assert sandboxed.endswith("[SANDBOX]")
    assert (
        len(
            plan_description(
                "x" * 200, plans["monthly"], Decimal("1.00"), is_test=True, sandbox=True
            )
        )
        == 128
    )
