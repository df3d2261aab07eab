"""The subscription sweeps: reminders before expiry (or the notice of an auto-renewal's charge)
and the lapse of subscriptions whose time is up. Scheduled with the payment sweeps
(payments/jobs.py); like them, set-based and safe to run twice: each reminder is claimed by a
conditional UPDATE on the expiry it is for, and a lapse ends them 200 at a time, each chunk one
conditional UPDATE.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from db.models_subscriptions import Renewal, Subscription
from db.repositories.dialect import any_of
from payments.outbox.notes import enqueue_note
from payments.ports import Clock, Recipient, SubscriptionEnded, SubscriptionReminder
from payments.rounds import SweepReport

log = logging.getLogger(__name__)

# Subscriptions reminded per run and window at most (the next run takes the rest).
REMIND_BATCH = 500
# Subscriptions ended per transaction: each one's notice is a row written on the loop.
LAPSE_CHUNK = 200


class SubscriptionSweeps:
    """Remind and lapse subscriptions; `wake` tells the sending lane that messages wait."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        schedule_renewals: Callable[[], Awaitable[object]] | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        """Keep the collaborators.

        `schedule_renewals` writes the renewals whose notice is due (with the price they will
        charge) before the reminders go out, so the notice states that very price.
        """
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._schedule_renewals = schedule_renewals
        self._wake = wake

    async def remind(self) -> SweepReport:
        """Remind subscribers 3 days and 1 day before expiry, each reminder once per expiry.

        An auto-renewing subscription gets, 3 days before, the notice of the coming charge
        (amount, date, card) instead, and no 1-day reminder: it is being renewed.
        """
        if self._schedule_renewals is not None:
            await self._safely(self._schedule_renewals())
        now = self._clock.now()
        seen = changed = 0
        for days, column in ((1, Subscription.reminded_1d_for), (3, Subscription.reminded_3d_for)):
            lower = now + timedelta(days=1) if days > 1 else now
            upper = now + timedelta(days=days)
            renewing = Subscription.auto_renew.is_(True) & Subscription.renew_method_id.is_not(None)
            async with self._sessionmaker() as session:
                result = await session.execute(
                    select(
                        Subscription.id,
                        Subscription.user_id,
                        Subscription.expires_at,
                        User,
                        Subscription.plan_code,
                        Subscription.renew_method_title,
                        renewing,
                    )
                    .join(User, User.id == Subscription.user_id)
                    .where(
                        Subscription.status == "active",
                        Subscription.expires_at > lower,
                        Subscription.expires_at <= upper,
                        or_(column.is_(None), column != Subscription.expires_at),
                        ~renewing if days == 1 else literal(True),
                    )
                    .limit(REMIND_BATCH)
                )
                due = list(result.all())
            seen += len(due)
            for sub_id, user_id, expires_at, user, plan_code, card, auto in due:
                async with self._sessionmaker.begin() as session:
                    claimed = await session.execute(
                        update(Subscription)
                        .where(
                            Subscription.id == sub_id,
                            Subscription.expires_at == expires_at,
                            or_(column.is_(None), column != expires_at),
                        )
                        .values({column.key: expires_at})
                        .execution_options(synchronize_session=False)
                    )
                    coming = (
                        await session.execute(
                            select(Renewal.amount, Renewal.next_attempt_at).where(
                                Renewal.subscription_id == sub_id,
                                Renewal.period_start == expires_at,
                                Renewal.status == "scheduled",
                            )
                        )
                    ).one_or_none()
                    if claimed.rowcount != 1:  # type: ignore[attr-defined]
                        continue
                    changed += 1
                    recipient = Recipient(user_id, user.language)
                    note = SubscriptionReminder(recipient, expires_at, days)
                    if auto and coming is not None:
                        note = SubscriptionReminder(
                            recipient,
                            expires_at,
                            days,
                            auto_renew=True,
                            plan_code=plan_code,
                            amount=coming.amount,
                            charge_at=coming.next_attempt_at,
                            method_title=card,
                        )
                    key = f"{sub_id}:{days}:{expires_at.isoformat()}"
                    await enqueue_note(session, note, dedupe_key=key)
        self._woken(changed > 0)
        return SweepReport(seen, changed)

    async def lapse(self) -> SweepReport:
        """End subscriptions whose time is up and tell their owners, LAPSE_CHUNK at a time.

        A subscription whose renewal was declined keeps access until its grace ends; lapsing
        then is involuntary churn (`renewal_state` "lapsed"). Each chunk is a transaction of
        its own, with a turn of the loop between chunks (on SQLite they run on it): a month's
        subscriptions bought on one launch day end on one day, tens of thousands at once.
        """
        now = self._clock.now()
        ended = 0
        while True:
            chunk = await self._lapse_chunk(now)
            ended += chunk
            self._woken(chunk > 0)
            if chunk < LAPSE_CHUNK:
                break
            await asyncio.sleep(0)
        if ended:
            log.info("lapse: %d subscriptions ended", ended)
        return SweepReport(ended, ended)

    async def _lapse_chunk(self, now: datetime) -> int:
        """End up to LAPSE_CHUNK subscriptions whose time is up; return how many."""
        due = and_(
            Subscription.status == "active",
            Subscription.expires_at <= now,
            or_(Subscription.grace_until.is_(None), Subscription.grace_until <= now),
        )
        chosen = select(Subscription.id).where(due).limit(LAPSE_CHUNK)
        async with self._sessionmaker.begin() as session:
            result = await session.execute(
                update(Subscription)
                # `due` again: a renewal or another instance may have moved one meanwhile.
                .where(Subscription.id.in_(chosen), due)
                .values(
                    status="expired",
                    updated_at=now,
                    renewal_state=case(
                        (Subscription.grace_until.is_not(None), literal("lapsed")),
                        else_=Subscription.renewal_state,
                    ),
                    grace_until=None,
                )
                .returning(Subscription.user_id)
                .execution_options(synchronize_session=False)
            )
            ended = list(result.scalars())
            languages: dict[str, str] = {}
            if ended:
                dialect = session.get_bind().dialect.name
                users = await session.execute(
                    select(User.id, User.language).where(any_of(dialect, User.id, ended))
                )
                languages = dict(users.all())
            for user_id in ended:
                note = SubscriptionEnded(Recipient(user_id, languages.get(user_id, "ru")))
                await enqueue_note(session, note, dedupe_key=None)
        return len(ended)

    def _woken(self, any_written: bool) -> None:
        """Tell the sending lane that messages were committed."""
        if any_written and self._wake is not None:
            self._wake()

    @staticmethod
    async def _safely(send: Awaitable[object]) -> None:
        try:
            await send
        except Exception:
            log.exception("a scheduled message could not be sent")
