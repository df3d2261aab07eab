"""Subscriptions: extend exactly once per payment, read a user's state."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.models_subscriptions import Subscription, SubscriptionPeriod
from db.repositories.dialect import insert_for_dialect
from db.writes import write


@dataclass(frozen=True, slots=True)
class Extension:
    """The outcome of adding days to a subscription."""

    subscription_id: int
    starts_at: datetime
    expires_at: datetime
    period_start: datetime


_SUBSCRIPTIONS = cast(Table, Subscription.__table__)
_PERIODS = cast(Table, SubscriptionPeriod.__table__)
_WHEN = _SUBSCRIPTIONS.c.starts_at.type


@functools.cache
def _claim_statement(dialect: str) -> Any:
    stmt = insert_for_dialect(dialect, _SUBSCRIPTIONS).values(
        user_id=bindparam("user_id"),
        plan_code=bindparam("plan_code"),
        status="expired",
        starts_at=bindparam("now", type_=_WHEN),
        expires_at=bindparam("now", type_=_WHEN),
        updated_at=bindparam("now", type_=_WHEN),
    )
    return stmt.on_conflict_do_update(
        index_elements=[_SUBSCRIPTIONS.c.user_id], set_={"updated_at": stmt.excluded.updated_at}
    ).returning(
        _SUBSCRIPTIONS.c.id,
        _SUBSCRIPTIONS.c.status,
        _SUBSCRIPTIONS.c.starts_at,
        _SUBSCRIPTIONS.c.expires_at,
    )


# Core statements built once: fulfilment runs them for every paid subscription, and the ORM
# unit of work around two plain writes cost more than the writes.
_EXTEND = (
    update(_SUBSCRIPTIONS)
    .where(_SUBSCRIPTIONS.c.id == bindparam("subscription_id"))
    .values(
        status="active",
        plan_code=bindparam("new_plan"),
        starts_at=bindparam("new_start", type_=_WHEN),
        expires_at=bindparam("new_expiry", type_=_WHEN),
        updated_at=bindparam("at", type_=_WHEN),
        grace_until=None,
        renewal_state=None,
    )
)
_ADD_PERIOD = insert(_PERIODS)


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
    continues: datetime | None = None,
) -> Extension:
    """Add days from the later of now and the current expiry; one period row per payment.

    The row is created if missing (ON CONFLICT DO UPDATE) and then locked, so two payments of
    one user never lose each other's days. The unique payment_id of the period row is the last
    guard against applying one payment twice.

    `continues`: the expiry a renewal was charged for. Paid within the grace after it, the new
    period still starts there (the customer kept access meanwhile), not at now.
    """
    # One statement creates the row or takes the existing one, locked for this transaction
    # (ON CONFLICT DO UPDATE locks the row on PostgreSQL; SQLite writers are serial).
    result = await write(
        session,
        _claim_statement(session.get_bind().dialect.name),
        {"user_id": user_id, "plan_code": plan_code, "now": now},
    )
    claimed = result.one()
    running = claimed.status == "active" and (
        claimed.expires_at > now or claimed.expires_at == continues
    )
    period_start = claimed.expires_at if running else now
    period_end = period_start + timedelta(days=days)
    starts_at = claimed.starts_at if running else now
    # Whatever grace a declined renewal gave ends with a paid period.
    await write(
        session,
        _EXTEND,
        {
            "subscription_id": claimed.id,
            "new_plan": plan_code,
            "new_start": starts_at,
            "new_expiry": period_end,
            "at": now,
        },
    )
    await write(
        session,
        _ADD_PERIOD,
        {
            "subscription_id": claimed.id,
            "payment_id": payment_id,
            "granted_by": granted_by,
            "plan_code": plan_code,
            "days": days,
            "starts_at": period_start,
            "ends_at": period_end,
            "created_at": now,
        },
    )
    return Extension(claimed.id, starts_at, period_end, period_start)


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
