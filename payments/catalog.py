"""The catalog: what the shop sells, read from TOML and validated at start."""

from __future__ import annotations

import re
import tomllib
from datetime import time
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from payments.money import MoneyError, parse_money
from payments.types import Cohort

DEFAULT_CATALOG = "catalog_default.toml"
_CODE = r"^[a-z][a-z0-9_]{0,31}$"
_SLOT = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
Code = Annotated[str, Field(pattern=_CODE)]


class CatalogError(Exception):
    """The catalog file is missing or invalid; the message names the field."""


def _money(value: Any) -> Decimal:
    try:
        amount = parse_money(value if isinstance(value, str) else str(value), strict=True)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc
    if amount <= 0:
        raise ValueError("must be greater than 0.00")
    return amount


Money = Annotated[Decimal, BeforeValidator(_money)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shop(_Model):
    """Shop-wide settings."""

    name: str = Field(min_length=1, max_length=64)
    currency: str = "RUB"
    vat_code: int = Field(default=1, ge=1, le=12)
    ticket_payment_subject: str = "service"
    ticket_payment_mode: str = "full_prepayment"
    plan_payment_subject: str = "service"
    plan_payment_mode: str = "full_payment"
    test_price: Money = Decimal("10.00")
    # Where the zoo is and when it is open, shown in the help and the ticket confirmation;
    # optional: a catalog without them shows neither line.
    address_ru: str | None = Field(default=None, min_length=1, max_length=200)
    address_en: str | None = Field(default=None, min_length=1, max_length=200)
    hours_ru: str | None = Field(default=None, min_length=1, max_length=200)
    hours_en: str | None = Field(default=None, min_length=1, max_length=200)

    def address(self, language: str) -> str | None:
        """Return the address in the user's language (the other one if only it is given)."""
        first, second = (
            (self.address_en, self.address_ru)
            if language == "en"
            else (self.address_ru, self.address_en)
        )
        return first or second

    def hours(self, language: str) -> str | None:
        """Return the opening hours in the user's language (the other one if only it is given)."""
        first, second = (
            (self.hours_en, self.hours_ru) if language == "en" else (self.hours_ru, self.hours_en)
        )
        return first or second

    @field_validator("currency")
    @classmethod
    def _rub_only(cls, value: str) -> str:
        if value != "RUB":
            raise ValueError("only RUB is supported")
        return value


class TicketType(_Model):
    """A kind of ticket, such as adult or child."""

    code: Code
    title_ru: str = Field(min_length=1, max_length=64)
    title_en: str = Field(min_length=1, max_length=64)
    price: Money

    def title(self, language: str) -> str:
        """Return the title in the user's language."""
        return self.title_en if language == "en" else self.title_ru


class Tickets(_Model):
    """Ticket types, time slots and the booking window."""

    slots: list[str] = Field(min_length=1)
    capacity_per_slot: int = Field(gt=0, le=100_000)
    bookable_days_ahead: int = Field(ge=0, le=366)
    closed_weekdays: list[int] = Field(default_factory=list)
    max_tickets_per_order: int = Field(default=20, gt=0, le=80)
    types: list[TicketType] = Field(min_length=1)

    @field_validator("slots")
    @classmethod
    def _check_slots(cls, value: list[str]) -> list[str]:
        for slot in value:
            if not _SLOT.match(slot):
                raise ValueError(f"slot {slot!r} is not a time like 10:00")
        if len(set(value)) != len(value):
            raise ValueError("slots repeat")
        return sorted(value)

    @field_validator("closed_weekdays")
    @classmethod
    def _check_weekdays(cls, value: list[int]) -> list[int]:
        if any(day < 0 or day > 6 for day in value):  # noqa: PLR2004 - weekday range
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        if len(set(value)) == 7:  # noqa: PLR2004
            raise ValueError("every weekday is closed")
        return sorted(set(value))

    @model_validator(mode="after")
    def _unique_codes(self) -> Tickets:
        codes = [t.code for t in self.types]
        if len(set(codes)) != len(codes):
            raise ValueError("ticket type codes repeat")
        return self

    def type(self, code: str) -> TicketType | None:
        """Return the ticket type with this code."""
        return next((t for t in self.types if t.code == code), None)

    def slot_times(self) -> list[time]:
        """Return the slots as times of day."""
        return [time.fromisoformat(slot) for slot in self.slots]


STARS_PERIOD_DAYS = 30  # Telegram's only subscription_period: 2592000 s
MAX_STARS = 10_000  # Telegram's largest price of one subscription period


class Plan(_Model):
    """A subscription plan.

    A `digital` plan (digital goods: Telegram requires Stars for them in bots) is sold only for
    Telegram Stars (`stars` a period) as a Stars subscription, which Telegram renews every 30
    days, so such a plan must be exactly 30 days long. Its `price` in roubles is the list price
    shown nowhere in the bot; it is never charged through YooKassa.
    """

    code: Code
    days: int = Field(gt=0, le=3660)
    price: Money
    title_ru: str = Field(min_length=1, max_length=64)
    title_en: str = Field(min_length=1, max_length=64)
    digital: bool = False
    stars: int | None = Field(default=None, ge=1, le=MAX_STARS)

    @model_validator(mode="after")
    def _check_stars(self) -> Plan:
        if self.digital and self.stars is None:
            raise ValueError("a digital plan needs its price in Stars (stars = 150)")
        if self.stars is not None and not self.digital:
            raise ValueError("stars: only a digital plan (digital = true) is sold for Stars")
        if self.digital and self.days != STARS_PERIOD_DAYS:
            raise ValueError(
                f"days: a digital plan is a Stars subscription, which Telegram renews every "
                f"{STARS_PERIOD_DAYS} days; it must be {STARS_PERIOD_DAYS} days long"
            )
        return self

    def title(self, language: str) -> str:
        """Return the title in the user's language."""
        return self.title_en if language == "en" else self.title_ru


class Catalog(_Model):
    """Everything the shop sells."""

    shop: Shop
    tickets: Tickets
    plans: list[Plan] = Field(min_length=1)
    cohort_prices: dict[str, dict[str, Decimal]] = Field(default_factory=dict)

    @field_validator("cohort_prices", mode="before")
    @classmethod
    def _parse_cohort_prices(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        parsed: dict[str, dict[str, Decimal]] = {}
        for cohort, prices in value.items():
            if cohort not in {c.value for c in Cohort} or cohort == Cohort.TEST:
                raise ValueError(f"unknown cohort {cohort!r}; use new, returning, active, regular")
            if not isinstance(prices, dict):
                raise ValueError(f"cohort_prices.{cohort} must be a table of plan = price")
            parsed[cohort] = {plan: _money(price) for plan, price in prices.items()}
        return parsed

    @model_validator(mode="after")
    def _check_plans(self) -> Catalog:
        codes = [p.code for p in self.plans]
        if len(set(codes)) != len(codes):
            raise ValueError("plan codes repeat")
        if not any(not p.digital for p in self.plans):
            raise ValueError("at least one plan must be sold for roubles (digital = false)")
        for cohort, prices in self.cohort_prices.items():
            unknown = set(prices) - set(codes)
            if unknown:
                raise ValueError(f"cohort_prices.{cohort}: unknown plan {sorted(unknown)[0]!r}")
        return self

    def plan(self, code: str) -> Plan | None:
        """Return the plan with this code."""
        return next((p for p in self.plans if p.code == code), None)

    @property
    def rouble_plans(self) -> list[Plan]:
        """Return the plans sold for roubles through YooKassa (every plan but digital ones)."""
        return [p for p in self.plans if not p.digital]

    @property
    def stars_plans(self) -> list[Plan]:
        """Return the digital plans, sold only for Telegram Stars."""
        return [p for p in self.plans if p.digital]

    def cohort_price(self, cohort: Cohort, plan_code: str) -> Decimal | None:
        """Return the catalog's price of a plan for a cohort, if it sets one."""
        return self.cohort_prices.get(cohort.value, {}).get(plan_code)


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate the catalog; the built-in default when no path is given."""
    source = str(path) if path else f"built-in {DEFAULT_CATALOG}"
    try:
        if path is None:
            text = resources.files("payments").joinpath(DEFAULT_CATALOG).read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise CatalogError(f"CATALOG_PATH: cannot read {source}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"CATALOG_PATH: {source} is not valid TOML: {exc}") from None
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CatalogError(f"CATALOG_PATH: {source}: {where}: {message}") from None
