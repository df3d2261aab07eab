"""Parse the admin commands' arguments strictly: anything else gets the usage line."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from payments.money import parse_money

ADMIN_AMOUNT = re.compile(r"^[0-9]{1,9}(?:[.,][0-9]{1,2})?$")
ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
DOTTED_DATE = re.compile(r"^([0-9]{2})\.([0-9]{2})\.([0-9]{4})$")
CLOCK_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
WHOLE_NUMBER = re.compile(r"^[0-9]{1,6}$")


def parse_day(text: str) -> date | None:
    """Parse `YYYY-MM-DD` or `DD.MM.YYYY`; None if it is neither or not a real date."""
    if match := ISO_DATE.match(text):
        year, month, day_ = match.groups()
    elif match := DOTTED_DATE.match(text):
        day_, month, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day_))
    except ValueError:
        return None


def parse_clock(text: str) -> str | None:
    """Parse a time of day like `10:00` or `9:30` into `HH:MM`."""
    match = CLOCK_TIME.match(text)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


def parse_count(text: str) -> int | None:
    """Parse a non-negative whole number."""
    return int(text) if WHOLE_NUMBER.match(text) else None


def parse_admin_amount(text: str) -> Decimal | None:
    """Parse `249`, `249.5`, `249.50` or `249,50` into a positive amount; None for anything else.

    ASCII digits only, at most two decimals: an admin types money as people write it, while
    the API keeps its strict two-decimal strings.
    """
    if not ADMIN_AMOUNT.match(text):
        return None
    amount = parse_money(text.replace(",", "."))
    return amount if amount > 0 else None
