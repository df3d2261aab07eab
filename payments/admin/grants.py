"""Grants for /grant: subscription days an admin gives a user, who is told after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.subscriptions import extend_subscription, get_subscription
from db.repositories.users import get_user
from payments.admin import audit
from payments.admin.results import Refusal
from payments.catalog import Catalog
from payments.outbox.notes import enqueue_note
from payments.ports import Clock, Recipient, SubscriptionActivated

log = logging.getLogger(__name__)

MAX_GRANT_DAYS = 3650


@dataclass(frozen=True, slots=True)
class GrantResult:
    """Days given to a user."""

    user_id: str
    days: int
    expires_at: datetime


class Grants:
    """Give users subscription days."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        catalog: Catalog,
        clock: Clock,
        wake: Callable[[], None] | None = None,
    ) -> None:
        """Keep the collaborators; the catalog's first plan names a grant to a new subscriber.

        `wake` tells the sending lane after commit that the customer's message waits.
        """
        self._sessionmaker = sessionmaker
        self._wake = wake
        self._catalog = catalog
        self._clock = clock

    async def grant(self, admin_id: int, user_id: str, days: int) -> GrantResult:
        """Give a user `days` of subscription, from the later of now and their expiry."""
        args: dict[str, Any] = {"user_id": user_id, "days": days}
        if not 0 < days <= MAX_GRANT_DAYS:
            await audit.refuse(
                self._sessionmaker,
                self._clock,
                admin_id,
                "grant",
                user_id[:64],
                args,
                Refusal("grant_days", f"days must be 1..{MAX_GRANT_DAYS}", max=MAX_GRANT_DAYS),
            )
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            user = await get_user(session, user_id)
            if user is not None:
                current = await get_subscription(session, user_id)
                plan_code = current.plan_code if current else self._catalog.plans[0].code
                extension = await extend_subscription(
                    session,
                    user_id=user_id,
                    plan_code=plan_code,
                    days=days,
                    now=now,
                    granted_by=admin_id,
                )
                note = SubscriptionActivated(
                    recipient=Recipient(user_id, user.language),
                    plan_code=plan_code,
                    days=days,
                    expires_at=extension.expires_at,
                    amount=None,
                )
                await enqueue_note(session, note, dedupe_key=None)
                await audit.record(
                    self._sessionmaker,
                    self._clock,
                    admin_id,
                    "grant",
                    user_id,
                    args,
                    f"granted {days} days; expires {extension.expires_at.isoformat()}",
                    session,
                )
        if user is None:
            await audit.refuse(
                self._sessionmaker,
                self._clock,
                admin_id,
                "grant",
                user_id[:64],
                args,
                Refusal("user_not_found", f"no user {user_id!r}", user_id=user_id),
            )
        if self._wake is not None:
            self._wake()
        return GrantResult(user_id, days, extension.expires_at)
