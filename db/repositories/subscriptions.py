"""Subscriptions: extend exactly once per payment, read a user's state."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Subscription, SubscriptionPeriod, User
from db.repositories.dialect import insert_for_dialect


@dataclass(frozen=True, slots=True)
class Extension:
    """The outcome of adding days to a subscription."""

    subscription_id: int
    starts_at: datetime
    expires_at: datetime
    period_start: datetime


@functools.cache
def _claim_statement(dialect: str) -> Any:
    stmt = insert_for_dialect(dialect, Subscription).values(
        user_id=bindparam("user_id"),
        plan_code=bindparam("plan_code"),
        status="expired",
        starts_at=bindparam("now", type_=Subscription.__table__.c.starts_at.type),
        expires_at=bindparam("now", type_=Subscription.__table__.c.expires_at.type),
        updated_at=bindparam("now", type_=Subscription.__table__.c.updated_at.type),
    )
    return stmt.on_conflict_do_update(
        index_elements=[Subscription.user_id], set_={"updated_at": stmt.excluded.updated_at}
    ).returning(Subscription)


async def get_subscription(session: AsyncSession, user_id: str) -> Subscription | None:
    """Return a user's subscription row, if they ever had one."""
    result = await session.execute(select(Subscription).where(Subscription.user_id == user_id))
    return result.scalar_one_or_none()


async def extend_subscription(
    session: AsyncSession,
    *,
    user_id: str,
    plan_code: str,
    days: int,
    now: datetime,
    payment_id: str | None = None,
    granted_by: int | None = None,
) -> Extension:
    """Add days from the later of now and the current expiry; one period row per payment.

    The row is created if missing (ON CONFLICT DO NOTHING) and then locked, so two payments of
    one user never lose each other's days. The unique payment_id of the period row is the last
    guard against applying one payment twice.
    """
    # One statement creates the row or takes the existing one, locked for this transaction
    # (ON CONFLICT DO UPDATE locks the row on PostgreSQL; SQLite writers are serial).
    result = await session.scalars(
        _claim_statement(session.get_bind().dialect.name),
        {"user_id": user_id, "plan_code": plan_code, "now": now},
        execution_options={"populate_existing": True},
    )
    subscription = result.one()
    running = subscription.status == "active" and subscription.expires_at > now
    period_start = subscription.expires_at if running else now
    period_end = period_start + timedelta(days=days)
    if not running:
        subscription.starts_at = now
    subscription.status = "active"
    subscription.plan_code = plan_code
    subscription.expires_at = period_end
    subscription.updated_at = now
    session.add(
        SubscriptionPeriod(
            subscription_id=subscription.id,
            payment_id=payment_id,
            granted_by=granted_by,
            plan_code=plan_code,
            days=days,
            starts_at=period_start,
            ends_at=period_end,
            created_at=now,
        )
    )
    await session.flush()
    return Extension(subscription.id, subscription.starts_at, period_end, period_start)


async def customer_facts(
    session: AsyncSession, user_id: str, now: datetime
) -> tuple[bool, bool, bool]:
    """Return (has an active subscription, ever had one, ever paid) for pricing."""
    subscription = await get_subscription(session, user_id)
    user = await session.get(User, user_id)
    had = subscription is not None and subscription.expires_at > subscription.starts_at
    active = (
        subscription is not None
        and subscription.status == "active"
        and (subscription.expires_at > now)
    )
    paid = user is not None and user.first_paid_at is not None
    return active, had, paid
