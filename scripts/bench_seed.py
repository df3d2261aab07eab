"""A big shop for make bench: users, ticket orders, payments and tickets inserted in bulk.

Rows go in as multi-row INSERTs of a few thousand rows each (SQLAlchemy Core, not the ORM one
object at a time), so 200 000 payments, 50 000 users and 300 000 tickets take seconds.
Half the payments buy tickets (an order of three or four tickets), half buy subscriptions; they
are spread over the last 180 days, so /stats' 30 days hold about a sixth of them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from db.base import Base  # noqa: E402
from db.engine import create_engine  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Order, Payment, Ticket, User  # noqa: E402

CHUNK = 5000
SPREAD_DAYS = 180
STATUSES = ("succeeded",) * 8 + ("canceled", "pending")


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _users(first: int, last: int, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(first, last):
        yield {
            "id": str(10_000_000 + i),
            "first_name": f"U{i}",
            "language": "ru",
            "created_at": now - timedelta(days=SPREAD_DAYS + 1),
        }


def _moment(i: int, now: datetime) -> datetime:
    """A payment's time: spread evenly back over SPREAD_DAYS, newest last."""
    return now - timedelta(seconds=(i * 7919) % (SPREAD_DAYS * 86400))


def _seats(i: int) -> int:
    """Tickets in payment i's order: 3.75 on average, so 200 000 payments carry 300 000."""
    return 3 if (i // 2) % 4 == 0 else 4


def _orders(first: int, last: int, users: int, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(first, last, 2):
        at = _moment(i, now)
        yield {
            "id": f"ZT-B{i:09d}",
            "user_id": str(10_000_000 + i % users),
            "visit_date": at.date() + timedelta(days=3),
            "slot_time": "10:00",
            "seats": _seats(i),
            "seats_held": False,
            "total": Decimal("2500.00"),
            "email": None,
            "status": "paid" if STATUSES[i % len(STATUSES)] == "succeeded" else "canceled",
            "created_at": at,
        }


def _payments(first: int, last: int, users: int, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(first, last):
        at = _moment(i, now)
        status = STATUSES[i % len(STATUSES)]
        tickets = i % 2 == 0
        yield {
            "id": f"ZB_{i:012d}",
            "idempotence_key": f"ZB_{i:012d}",
            "provider_id": f"{i:08x}-00be-5000-8000-000000000000",
            "kind": "tickets" if tickets else "subscription",
            "user_id": str(10_000_000 + i % users),
            "order_id": f"ZT-B{i:09d}" if tickets else None,
            "plan_code": None if tickets else "monthly",
            "cohort": None,
            "amount": Decimal("2500.00") if tickets else Decimal("299.00"),
            "refunded_amount": Decimal("0.00"),
            "currency": "RUB",
            "status": status,
            "cancel_reason": "expired" if status == "canceled" else None,
            "is_test": False,
            "description": "Билеты в зоопарк" if tickets else "Месячная подписка",
            "source": "bot",
            "payment_method": "bank_card" if status == "succeeded" else None,
            "customer_email": f"u{i % users}@example.com",
            "extra": {},
            "created_at": at,
            "updated_at": at,
            "captured_at": at + timedelta(minutes=2) if status == "succeeded" else None,
            "expires_at": at + timedelta(minutes=15),
        }


def _tickets(first: int, last: int, users: int, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(first, last, 2):
        if STATUSES[i % len(STATUSES)] != "succeeded":
            continue
        at = _moment(i, now)
        visit: date = at.date() + timedelta(days=3)
        for seat, kind in enumerate(("adult", "adult", "child", "child")[: _seats(i)]):
            yield {
                "code": f"B{i:09d}{seat}",
                "order_id": f"ZT-B{i:09d}",
                "payment_id": f"ZB_{i:012d}",
                "user_id": str(10_000_000 + i % users),
                "ticket_type": kind,
                "visit_date": visit,
                "slot_time": "10:00",
                "status": "valid",
                "created_at": at + timedelta(minutes=2),
            }


async def seed(
    url: str, payments: tuple[int, int], users: tuple[int, int]
) -> dict[str, int | float]:
    """Insert payments and users numbered in these ranges (and orders, tickets); return counts.

    Payment i belongs to user i % (last user), so call with growing ranges to add rows.
    """
    first, last = payments
    engine = create_engine(url)
    now = datetime.now(UTC)
    started = time.perf_counter()
    counts: dict[str, int | float] = {}
    try:
        await upgrade(engine)
        everyone = users[1]
        for model, rows in (
            (User, _users(users[0], users[1], now)),
            (Order, _orders(first, last, everyone, now)),
            (Payment, _payments(first, last, everyone, now)),
            (Ticket, _tickets(first, last, everyone, now)),
        ):
            count = 0
            async with engine.begin() as connection:
                for chunk in _chunks(rows):
                    await connection.execute(
                        insert(Base.metadata.tables[model.__tablename__]), chunk
                    )
                    count += len(chunk)
            counts[model.__tablename__] = count
    finally:
        await engine.dispose()
    counts["seconds"] = time.perf_counter() - started
    return counts
