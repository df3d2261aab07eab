"""The catalog: the built-in default reproduces the seeds; a bad file names the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from payments.catalog import CatalogError, load_catalog
from payments.types import Cohort


def test_default_catalog_reproduces_the_seeds() -> None:
    catalog = load_catalog()
    adult = catalog.tickets.type("adult")
    assert adult is not None
    assert adult.price == Decimal("1000.00")
    assert catalog.tickets.slots == ["10:00", "12:00", "14:00", "16:00"]
    plans = {p.code: (p.days, p.price) for p in catalog.plans}
    assert plans == {
        "monthly": (30, Decimal("299.00")),
        "quarterly": (90, Decimal("799.00")),
        "yearly": (365, Decimal("2999.00")),
        "online": (30, Decimal("149.00")),
    }
    assert [(p.code, p.stars) for p in catalog.stars_plans] == [("online", 100)]
    assert "online" not in {p.code for p in catalog.rouble_plans}
    assert catalog.cohort_price(Cohort.NEW, "monthly") == Decimal("299.00")


def test_catalog_path_points_at_another_catalog(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "payments" / "catalog_default.toml").read_text("utf-8")
    path = tmp_path / "shop.toml"
    path.write_text(text.replace('name = "ZooTicket"', 'name = "Инглиш в ТГ"'), "utf-8")
    assert load_catalog(path).shop.name == "Инглиш в ТГ"


@pytest.mark.parametrize(
    ("needle", "replacement", "expected"),
    [
        ('price = "1000.00"', 'price = "1000"', "tickets.types.0.price"),
        ('price = "1000.00"', 'price = "-5.00"', "tickets.types.0.price"),
        ('"16:00"]', '"25:00"]', "tickets.slots"),
        ("[cohort_prices.regular]", "[cohort_prices.vip]", "unknown cohort 'vip'"),
        (
            'yearly = "2799.00"\n\n[cohort_prices.regular]',
            'weekly = "1.00"\n\n[cohort_prices.regular]',
            "unknown plan 'weekly'",
        ),
    ],
)
def test_invalid_catalog_names_the_field(
    tmp_path: Path, needle: str, replacement: str, expected: str
) -> None:
    text = (Path(__file__).parents[2] / "payments" / "catalog_default.toml").read_text("utf-8")
    assert needle in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(needle, replacement, 1), "utf-8")
    with pytest.raises(CatalogError, match=expected):
        load_catalog(path)


def test_broken_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[shop\nname=", "utf-8")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_catalog(path)


DIGITAL = 'digital = true\nstars = 100\ntitle_ru = "онлайн-зоопарк (веб-камеры)"'


@pytest.mark.parametrize(
    ("needle", "replacement", "expected"),
    [
        # Telegram renews a Stars subscription every 30 days, so a digital plan is 30 days.
        ('code = "online"\ndays = 30', 'code = "online"\ndays = 31', "days: a digital plan"),
        (DIGITAL, 'digital = true\ntitle_ru = "онлайн"', "needs its price in Stars"),
        (DIGITAL, 'stars = 100\ntitle_ru = "онлайн"', "only a digital plan"),
        (DIGITAL, DIGITAL.replace("100", "10001"), "plans.3.stars"),
    ],
)
def test_digital_plans_are_thirty_days_with_a_stars_price(
    tmp_path: Path, needle: str, replacement: str, expected: str
) -> None:
    text = (Path(__file__).parents[2] / "payments" / "catalog_default.toml").read_text("utf-8")
    assert needle in text
    path = tmp_path / "shop.toml"
    path.write_text(text.replace(needle, replacement), "utf-8")
    with pytest.raises(CatalogError, match=expected):
        load_catalog(path)
