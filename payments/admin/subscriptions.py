"""/subscription: one customer's subscription with its periods and renewals, and stopping its
auto-renewal from the console (through the customer's own switch, so a charge not yet sent
never goes out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from db.models_subscriptions import Renewal, Subscription, SubscriptionPeriod
from payments.admin import audit
from payments.admin.renewals import RenewalView, renewals_with_attempts
from payments.admin.results import Refusal, display_name
from payments.ports import Clock
from payments.subscriptions.consent import AutoRenewal

PERIODS_SHOWN = 12
RENEWALS_SHOWN = 6


@dataclass(frozen=True, slots=True)
class PeriodLine:
    """Days one payment or grant added."""

    starts_at: datetime
    ends_at: datetime
    days: int
    plan_code: str
    payment_id: str | None
    granted_by: int | None


@dataclass(frozen=True, slots=True)
class SubscriptionDetails:
    """A customer's subscription as the admin sees it."""

    user_id: str
    user_name: str
    plan_code: str
    status: str
    starts_at: datetime
    expires_at: datetime
    auto_renew: bool
    method_title: str | None
    renewal_state: str | None
    grace_until: datetime | None
    periods: tuple[PeriodLine, ...]
    periods_total: int
    renewals: tuple[RenewalView, ...]


async def find_user(session: AsyncSession, query: str) -> User | None:
    """Find a customer by Telegram id or @username (any case)."""
    query = query.strip()
    if not query or len(query) > 65:
        return None
    if query.startswith("@"):
        name = query[1:].lower()
        result = await session.execute(
            select(User).where(func.lower(User.username) == name).limit(1)
        )
        return result.scalar_one_or_none()
    return await session.get(User, query)


class SubscriptionDesk:
    """What an admin sees of one customer's subscription, and the stop button."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        switches: AutoRenewal,
    ) -> None:
        """Keep the collaborators; `switches` is the customer's own auto-renewal switch."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._switches = switches

    async def view(self, admin_id: int, query: str) -> SubscriptionDetails:
        """Return the subscription of a customer named by id or @username."""
        details: SubscriptionDetails | None = None
        async with self._sessionmaker() as session:
            user = await find_user(session, query)
            if user is not None:
                details = await self._details(session, user)
        if details is None:
            reason = "user_not_found" if user is None else "no_subscription"
            await audit.refuse(
                self._sessionmaker,
                self._clock,
                admin_id,
                "subscription",
                query[:64],
                {"query": query},
                Refusal(reason, f"no subscription for {query!r}", user_id=query),
            )
        await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            "subscription",
            details.user_id,
            {"query": query},
            "shown",
        )
        return details

    async def stop_auto_renew(self, admin_id: int, user_id: str) -> bool:
        """Turn a customer's auto-renewal off; return whether it was on (False: already off)."""
        stopped = await self._switches.turn_off(user_id)
        await audit.record(
            self._sessionmaker,
            self._clock,
            admin_id,
            "stop_renewal",
            user_id,
            {},
            "stopped" if stopped else "already_off",
        )
        return stopped

    async def current(self, user_id: str) -> SubscriptionDetails | None:
        """Return the subscription of a customer by id, unaudited (to redraw a view)."""
        async with self._sessionmaker() as session:
            user = await session.get(User, user_id)
            return await self._details(session, user) if user else None

    @staticmethod
    async def _details(session: AsyncSession, user: User) -> SubscriptionDetails | None:
        sub = (
            await session.execute(select(Subscription).where(Subscription.user_id == user.id))
        ).scalar_one_or_none()
        if sub is None:
            return None
        periods = list(
            (
                await session.execute(
                    select(SubscriptionPeriod)
                    .where(SubscriptionPeriod.subscription_id == sub.id)
                    .order_by(SubscriptionPeriod.starts_at.desc(), SubscriptionPeriod.id.desc())
                )
            ).scalars()
        )
        renewals = list(
            (
                await session.execute(
                    select(Renewal)
                    .where(Renewal.subscription_id == sub.id)
                    .order_by(Renewal.period_start.desc())
                    .limit(RENEWALS_SHOWN)
                )
            ).scalars()
        )
        return SubscriptionDetails(
            user_id=user.id,
            user_name=display_name(user, user.id),
            plan_code=sub.plan_code,
            status=sub.status,
            starts_at=sub.starts_at,
            expires_at=sub.expires_at,
            auto_renew=sub.auto_renew,
            method_title=sub.renew_method_title,
            renewal_state=sub.renewal_state,
            grace_until=sub.grace_until,
            periods=tuple(
                PeriodLine(p.starts_at, p.ends_at, p.days, p.plan_code, p.payment_id, p.granted_by)
                for p in reversed(periods[:PERIODS_SHOWN])
            ),
            periods_total=len(periods),
            renewals=await renewals_with_attempts(session, renewals),
        )
