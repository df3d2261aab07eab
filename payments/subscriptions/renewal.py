"""The renewal sweep: charge each auto-renewing subscription shortly before it ends, once.

1. `schedule` writes one renewal row per (subscription, period start) when the notice window
   opens, with the price the notice states (INSERT … ON CONFLICT DO NOTHING: set-based, safe
   on two instances).
2. `charge_due` claims each due row with one conditional UPDATE that also requires
   auto-renewal still on, writes the attempt's pending payment in the same transaction, and
   only then asks YooKassa to charge the saved method with the idempotence key
   `<renewal key>-<attempt>`: two workers cannot both claim an attempt, and a retried or
   resumed request is the same charge at YooKassa.
3. YooKassa's answer goes through `Fulfilment.apply`, like a webhook: the period is added
   exactly once, a decline schedules the retry (`payments/subscriptions/outcomes.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, User
from db.models_subscriptions import Renewal, Subscription
from db.repositories import payments as payments_repo
from db.repositories.dialect import insert_for_dialect
from payments.catalog import Catalog, Plan
from payments.checkout.draft import CheckoutConfig, add_pending_payment, receipt_contact
from payments.checkout.transactions import new_payment_id
from payments.fulfilment import Fulfilment
from payments.ports import Clock, PaymentGateway
from payments.pricing import is_test_user, plan_description
from payments.receipts import single_line
from payments.subscriptions.outcomes import RENEWAL_KEY
from payments.subscriptions.quotes import quote_plan
from payments.subscriptions.terms import RenewalTerms, terms_for
from payments.types import PaymentKind, PaymentRequest, PaymentStatus
from payments.yookassa.gateway import GatewayRejected, GatewayUnavailable

log = logging.getLogger(__name__)

BATCH = 500
# A charge whose request never got an answer is sent again (same key) after this long.
RESUME_AFTER = timedelta(minutes=2)
# How long a renewal charge may stay pending at YooKassa before the expiry sweep asks.
CHARGE_TTL = timedelta(minutes=60)


@dataclass(frozen=True, slots=True)
class RenewalConfig:
    """When renewals are written (the notice) and charged (the lead before the end)."""

    lead: timedelta = timedelta(hours=24)
    notice: timedelta = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class RenewalReport:
    """What one run of the sweep did."""

    scheduled: int
    charged: int


def renewal_key(subscription_id: int, period_start: datetime) -> str:
    """Return the key of the renewal of one subscription from one period start."""
    return f"RN-{subscription_id}-{int(period_start.timestamp())}"


class Renewals:
    """Schedule and charge renewals; set-based and safe to run twice at once."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: PaymentGateway,
        fulfilment: Fulfilment,
        catalog: Catalog,
        clock: Clock,
        checkout: CheckoutConfig,
        config: RenewalConfig,
    ) -> None:
        """Keep the collaborators."""
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._fulfilment = fulfilment
        self._catalog = catalog
        self._clock = clock
        self._checkout = checkout
        self._config = config

    @property
    def lead(self) -> timedelta:
        """How long before a period ends its renewal is charged."""
        return self._config.lead

    async def terms(self, user_id: str, plan: Plan, *, resume: bool) -> RenewalTerms:
        """Return the terms of auto-renewing `plan`: bought now, or turned back on (`resume`)."""
        async with self._sessionmaker() as session:
            return await terms_for(
                session,
                user_id,
                plan,
                catalog=self._catalog,
                config=self._checkout,
                now=self._clock.now(),
                lead=self._config.lead,
                resume=resume,
            )

    async def run(self) -> RenewalReport:
        """Write the renewals whose notice is due, then charge those whose time has come."""
        scheduled = await self.schedule()
        charged = await self.charge_due()
        return RenewalReport(scheduled, charged)

    # ---- 1. schedule --------------------------------------------------------------------

    async def schedule(self) -> int:
        """Write a renewal for each auto-renewing subscription ending within the notice."""
        now = self._clock.now()
        horizon = now + max(self._config.notice, self._config.lead)
        async with self._sessionmaker() as session:
            result = await session.execute(
                select(
                    Subscription.id,
                    Subscription.user_id,
                    Subscription.plan_code,
                    Subscription.expires_at,
                )
                .where(
                    Subscription.auto_renew.is_(True),
                    Subscription.renew_method_id.is_not(None),
                    Subscription.status == "active",
                    Subscription.expires_at > now,
                    Subscription.expires_at <= horizon,
                    ~exists().where(
                        Renewal.subscription_id == Subscription.id,
                        Renewal.period_start == Subscription.expires_at,
                    ),
                )
                .limit(BATCH)
            )
            due = list(result.all())
        written = 0
        for sub_id, user_id, plan_code, expires_at in due:
            plan = self._catalog.plan(plan_code)
            if plan is None:
                log.warning("renewal: subscription %s has unknown plan %s", sub_id, plan_code)
                continue
            async with self._sessionmaker.begin() as session:
                quote = await quote_plan(
                    session, user_id, plan, catalog=self._catalog, clock=self._clock,
                    config=self._checkout,
                )  # fmt: skip
                dialect = session.get_bind().dialect.name
                inserted = await session.execute(
                    insert_for_dialect(dialect, Renewal.__table__)
                    .values(
                        key=renewal_key(sub_id, expires_at),
                        subscription_id=sub_id,
                        user_id=user_id,
                        period_start=expires_at,
                        plan_code=plan.code,
                        days=plan.days,
                        amount=quote.amount,
                        status="scheduled",
                        attempts=0,
                        next_attempt_at=expires_at - self._config.lead,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing()
                )
                written += inserted.rowcount == 1  # type: ignore[attr-defined]
        return written

    # ---- 2. charge ----------------------------------------------------------------------

    async def charge_due(self) -> int:
        """Charge every renewal whose attempt is due; resume charges left without an answer."""
        now = self._clock.now()
        async with self._sessionmaker() as session:
            result = await session.execute(
                select(Renewal.id)
                .where(Renewal.status.in_(("scheduled", "retry")), Renewal.next_attempt_at <= now)
                .order_by(Renewal.next_attempt_at)
                .limit(BATCH)
            )
            due = list(result.scalars())
            stuck = await session.execute(
                select(Renewal.payment_id)
                .join(Payment, Payment.id == Renewal.payment_id)
                .where(
                    Renewal.status == "charging",
                    Renewal.updated_at <= now - RESUME_AFTER,
                    Payment.status == PaymentStatus.PENDING,
                    Payment.provider_id.is_(None),
                )
                .limit(BATCH)
            )
            unanswered = [pid for pid in stuck.scalars() if pid]
        charged = 0
        for renewal_id in due:
            payment_id = await self._claim(renewal_id)
            if payment_id is not None:
                charged += await self._send(payment_id)
        for payment_id in unanswered:
            charged += await self._send(payment_id)
        return charged

    async def _claim(self, renewal_id: int) -> str | None:
        """Claim the renewal's next attempt and write its pending payment; None if lost.

        The UPDATE requires the row unchanged since it was read, auto-renewal still on with the
        same method, and the subscription still ending where this renewal starts: a second
        worker, the customer turning it off, or a period bought meanwhile (by hand, or with a
        new card) wins. A renewal whose period was bought meanwhile is marked superseded.
        """
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            row = await session.get(Renewal, renewal_id)
            if row is None or row.status not in ("scheduled", "retry"):
                return None
            found = await session.execute(
                select(Subscription.renew_method_id, Subscription.expires_at, User)
                .join(User, User.id == Subscription.user_id)
                .where(Subscription.id == row.subscription_id, Subscription.auto_renew.is_(True))
            )
            current = found.one_or_none()
            if current is None or current[0] is None:
                return None
            method_id, expires_at, user = current
            if expires_at != row.period_start:
                await session.execute(
                    update(Renewal)
                    .where(Renewal.id == row.id, Renewal.status == row.status)
                    .values(status="superseded", last_reason="period_bought", updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                return None
            attempt = row.attempts + 1
            payment_id = new_payment_id()
            plan = self._catalog.plan(row.plan_code)
            is_test = is_test_user(row.user_id, self._checkout.test_user_ids)
            description = (
                plan_description(
                    self._catalog.shop.name,
                    plan,
                    row.amount,
                    is_test=is_test,
                    sandbox=self._checkout.sandbox,
                )
                if plan
                else f"{self._catalog.shop.name} - {row.plan_code}"
            )
            # The claim comes first: on PostgreSQL a second worker's UPDATE waits for this one
            # and then matches nothing, where a second INSERT of the same charge key would
            # wait and then fail on the unique key.
            claimed = await session.execute(
                update(Renewal)
                .where(
                    Renewal.id == row.id,
                    Renewal.status == row.status,
                    Renewal.attempts == row.attempts,
                    exists().where(
                        Subscription.id == row.subscription_id,
                        Subscription.auto_renew.is_(True),
                        Subscription.renew_method_id == method_id,
                        Subscription.expires_at == row.period_start,
                    ),
                )
                .values(status="charging", attempts=attempt, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None  # another worker, or auto-renewal off
            payment = Payment(
                id=payment_id,
                kind=PaymentKind.SUBSCRIPTION,
                user_id=row.user_id,
                plan_code=row.plan_code,
                amount=row.amount,
                is_test=is_test,
                description=description[:128],
                return_url="",
                customer_email=user.email,
                customer_phone=user.phone,
                source="renewal",
                expires_at=now + CHARGE_TTL,
            )
            add_pending_payment(
                session,
                payment,
                now=now,
                detail={"renewal": row.key, "attempt": attempt, "amount": str(row.amount)},
            )
            payment.idempotence_key = f"{row.key}-{attempt}"
            payment.extra = {**payment.extra, RENEWAL_KEY: row.id, "method_id": method_id}
            await session.flush()
            await session.execute(
                update(Renewal)
                .where(Renewal.id == row.id)
                .values(payment_id=payment_id)
                .execution_options(synchronize_session=False)
            )
        return payment_id

    async def _send(self, payment_id: str) -> int:
        """Ask YooKassa to charge the saved method (same key every time); apply its answer."""
        async with self._sessionmaker() as session:
            payment = await payments_repo.get_payment(session, payment_id)
            user = await session.get(User, payment.user_id) if payment else None
        if payment is None or user is None:
            return 0
        extra = payment.extra or {}
        email, phone = receipt_contact(
            user, payment.customer_email, payment.customer_phone,
            self._checkout.fallback_email_domain,
        )  # fmt: skip
        request = PaymentRequest(
            idempotence_key=payment.idempotence_key,
            amount=payment.amount,
            description=payment.description,
            return_url="",
            capture=True,
            metadata={
                "payment_id": payment.id,
                "userId": payment.user_id,
                "product": payment.plan_code or "",
                "kind": PaymentKind.SUBSCRIPTION.value,
                "renewal": str(extra.get(RENEWAL_KEY, "")),
            },
            receipt_lines=[
                single_line(
                    self._catalog, PaymentKind.SUBSCRIPTION, payment.description, payment.amount
                )
            ],
            receipt_email=email,
            receipt_phone=phone,
            payment_method_id=str(extra.get("method_id")) if extra.get("method_id") else None,
        )
        try:
            remote = await self._gateway.create_payment(request)
        except GatewayUnavailable as exc:
            # No definite answer: the charge may exist. The next run sends the same request
            # (same key), and YooKassa answers with that one payment.
            log.warning("renewal payment %s: no answer from YooKassa (%s)", payment.id, exc)
            return 0
        except GatewayRejected as exc:
            log.warning("renewal payment %s: YooKassa refused: %s", payment.id, exc)
            await self._refused(payment, exc)
            return 0
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            await payments_repo.set_fields(
                session, payment.id, provider_id=remote.id, updated_at=now
            )
            payments_repo.add_event(
                session,
                payment_id=payment.id,
                provider_id=remote.id,
                source="renewal",
                event="provider_created",
                status_after=remote.status.value,
                at=now,
            )
        await self._fulfilment.apply(remote, source="renewal")
        return 1

    async def _refused(self, payment: Payment, exc: GatewayRejected) -> None:
        """YooKassa refused the charge outright (method not saved, not allowed): a decline."""
        # A refusal of a saved method means it cannot be charged: the same as a revoked one.
        await self._fulfilment.decline_unsent(
            payment.id, reason="payment_method_restricted", note=str(exc)[:200]
        )
