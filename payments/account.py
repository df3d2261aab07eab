"""What a customer owns: their subscription and tickets, as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.subscriptions import get_subscription
from payments.ports import Clock
from payments.types import SubscriptionInfo, SubscriptionStatus


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """A customer's purchases."""

    subscription: SubscriptionInfo | None


class Account:
    """Read a customer's purchases."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        """Keep the database and the clock."""
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def summary(self, user_id: str) -> AccountSummary:
        """Return the user's subscription (a lapsed one shows as expired)."""
        async with self._sessionmaker() as session:
            row = await get_subscription(session, user_id)
        subscription = None
        if row is not None and row.expires_at > row.starts_at:
            running = row.status == "active" and row.expires_at > self._clock.now()
            subscription = SubscriptionInfo(
                user_id=row.user_id,
                plan_code=row.plan_code,
                status=SubscriptionStatus.ACTIVE if running else SubscriptionStatus.EXPIRED,
                starts_at=row.starts_at,
                expires_at=row.expires_at,
            )
        return AccountSummary(subscription=subscription)
