"""Digital plans sold for Telegram Stars: the invoice row, pre-checkout, each charge once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, User
from db.reader import Reader
from db.repositories import payments as payments_repo
from payments.admin.settlement import RefundSettlement
from payments.catalog import Catalog
from payments.checkout.draft import add_pending_payment
from payments.checkout.errors import UnknownProduct
from payments.checkout.transactions import new_payment_id
from payments.fulfilment import AfterCommit, Fulfilment
from payments.ports import Clock
from payments.stars.accounts import CURRENCY, PROVIDER, SOURCE, StarsAccounts, stars_of
from payments.types import PaymentKind, PaymentStatus

log = logging.getLogger(__name__)

SUBSCRIPTION_PERIOD = 2_592_000  # seconds: the only period Telegram allows (30 days)
PAYLOAD_PREFIX = "stars:"


def payload_of(payment_id: str) -> str:
    """Return the invoice payload that names our payment."""
    return f"{PAYLOAD_PREFIX}{payment_id}"


def payment_id_of(payload: str) -> str | None:
    """Return our payment id from an invoice payload, or None if it is not a Stars payload."""
    if not payload.startswith(PAYLOAD_PREFIX):
        return None
    return payload.removeprefix(PAYLOAD_PREFIX) or None


@dataclass(frozen=True, slots=True)
class StarsInvoice:
    """What the bot puts in `createInvoiceLink`: one price item in whole Stars, 30 days."""

    payment_id: str
    payload: str
    plan_code: str
    stars: int
    subscription_period: int = SUBSCRIPTION_PERIOD


@dataclass(frozen=True, slots=True)
class PreCheckout:
    """The answer to a pre-checkout query; `reason` is a Fluent message id when refused."""

    ok: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StarCharge:
    """A `successful_payment` in Stars, as plain values."""

    user_id: str
    payload: str
    currency: str
    total_amount: int
    charge_id: str
    provider_charge_id: str | None = None
    is_recurring: bool = False
    is_first_recurring: bool = False
    subscription_expires_at: datetime | None = None


class ChargeOutcome(StrEnum):
    """What applying a Stars charge did."""

    APPLIED = "applied"  # the subscription was extended by this call
    ALREADY = "already"  # this charge id was applied before: nothing done
    UNKNOWN = "unknown"  # the payload names no payment of ours for this user
    MISMATCH = "mismatch"  # currency or amount differ from the invoice: not applied


class StarsBilling(StarsAccounts):
    """Sell digital plans for Stars: invoice rows, pre-checkout answers, charges, refunds."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        reader: Reader,
        fulfilment: Fulfilment,
        settlement: RefundSettlement,
        catalog: Catalog,
        clock: Clock,
        ttl_minutes: int,
    ) -> None:
        """Keep the collaborators; an invoice stays payable for `ttl_minutes`."""
        self._sessionmaker = sessionmaker
        self._reader = reader
        self._fulfilment = fulfilment
        self._settlement = settlement
        self._catalog = catalog
        self._clock = clock
        self._ttl = timedelta(minutes=ttl_minutes)

    async def start(self, user_id: str, plan_code: str, *, description: str) -> StarsInvoice:
        """Write the pending Stars payment of a digital plan; return what to invoice."""
        plan = self._catalog.plan(plan_code)
        if plan is None or not plan.digital or plan.stars is None:
            raise UnknownProduct(f"no digital plan {plan_code!r}")
        now = self._clock.now()
        payment_id = new_payment_id()
        async with self._sessionmaker.begin() as session:
            add_pending_payment(
                session,
                Payment(
                    id=payment_id,
                    kind=PaymentKind.SUBSCRIPTION,
                    user_id=user_id,
                    plan_code=plan.code,
                    amount=Decimal(plan.stars).quantize(Decimal("0.01")),
                    currency=CURRENCY,
                    payment_method=PROVIDER,
                    is_test=False,
                    description=description[:128],
                    source=SOURCE,
                    expires_at=now + self._ttl,
                ),
                now=now,
                detail={"plan": plan.code, "stars": plan.stars, "provider": PROVIDER},
            )
        return StarsInvoice(payment_id, payload_of(payment_id), plan.code, plan.stars)

    async def pre_checkout(
        self, user_id: str, payload: str, currency: str, total_amount: int
    ) -> PreCheckout:
        """Say yes only while the payment is pending, not expired, this user's, same amount."""
        payment_id = payment_id_of(payload)
        async with self._sessionmaker() as session:
            payment = await payments_repo.get_payment(session, payment_id) if payment_id else None
        if payment is None or payment.user_id != user_id or payment.currency != CURRENCY:
            return PreCheckout(ok=False, reason="stars_refused_unknown")
        if currency != CURRENCY or total_amount != stars_of(payment.amount):
            return PreCheckout(ok=False, reason="stars_refused_changed")
        if payment.status != PaymentStatus.PENDING or payment.expires_at <= self._clock.now():
            return PreCheckout(ok=False, reason="stars_refused_stale")
        return PreCheckout(ok=True)

    async def charged(self, charge: StarCharge) -> ChargeOutcome:
        """Apply a Stars charge once per charge id; the customer's message goes after commit."""
        payment_id = payment_id_of(charge.payload)
        async with self._sessionmaker() as session:
            first = await payments_repo.get_payment(session, payment_id) if payment_id else None
            language = await session.scalar(select(User.language).where(User.id == charge.user_id))
        if first is None or first.user_id != charge.user_id or first.currency != CURRENCY:
            log.error("Stars charge %s names no payment of ours", charge.charge_id)
            return ChargeOutcome.UNKNOWN
        if charge.currency != CURRENCY or charge.total_amount != stars_of(first.amount):
            await self._event(first.id, charge, "mismatch:stars_charge")
            log.error("Stars charge %s differs from payment %s", charge.charge_id, first.id)
            return ChargeOutcome.MISMATCH
        renewal = charge.is_recurring and not charge.is_first_recurring
        try:
            if renewal:
                send = await self._renewal(first, charge, language or "ru")
            else:
                send = await self._first(first, charge, language or "ru")
        except IntegrityError:  # a replay raced us to the unique charge id
            send = None
        if send is None:
            await self._event(first.id, charge, "repeat:stars_charge")
            return ChargeOutcome.ALREADY
        try:
            await send()
        except Exception:
            log.exception("payment %s: notifying the customer failed", first.id)
        return ChargeOutcome.APPLIED

    def _values(self, charge: StarCharge, now: datetime) -> dict[str, object]:
        return {
            "updated_at": now,
            "captured_at": now,
            "fulfilled_at": now,
            "provider_id": charge.charge_id,
            "cancel_reason": None,
        }

    async def _first(
        self, payment: Payment, charge: StarCharge, language: str
    ) -> AfterCommit | None:
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            taken = await payments_repo.get_by_provider_id(session, charge.charge_id)
            if taken is not None:
                return None
            # An invoice paid just after our expiry sweep gave up on it is honoured.
            moved = await payments_repo.transition(
                session,
                payment.id,
                to=PaymentStatus.SUCCEEDED,
                from_statuses=(PaymentStatus.PENDING,),
                revive_reasons=("expired",),
                values=self._values(charge, now),
            )
            if not moved:
                return None
            self._add_charge_event(session, payment, charge, now, status_before=payment.status)
            await self._mark_first_paid(session, payment.user_id, now)
            return await self._fulfilment.deliver(session, payment, language)

    async def _renewal(
        self, first: Payment, charge: StarCharge, language: str
    ) -> AfterCommit | None:
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            if await payments_repo.get_by_provider_id(session, charge.charge_id) is not None:
                return None
            renewal = Payment(
                id=new_payment_id(),
                idempotence_key=f"{PAYLOAD_PREFIX}{charge.charge_id}"[:64],
                provider_id=charge.charge_id,
                kind=PaymentKind.SUBSCRIPTION,
                user_id=first.user_id,
                plan_code=first.plan_code,
                amount=first.amount,
                refunded_amount=Decimal("0.00"),
                currency=CURRENCY,
                payment_method=PROVIDER,
                status=PaymentStatus.SUCCEEDED,
                is_test=False,
                description=first.description,
                source=SOURCE,
                extra={"renews": first.id},
                created_at=now,
                updated_at=now,
                captured_at=now,
                fulfilled_at=now,
                expires_at=now,
            )
            session.add(renewal)
            await session.flush()  # the unique charge id stops a concurrent replay here
            self._add_charge_event(session, renewal, charge, now, status_before=None)
            return await self._fulfilment.deliver(session, renewal, language)

    @staticmethod
    def _add_charge_event(
        session: AsyncSession,
        payment: Payment,
        charge: StarCharge,
        now: datetime,
        *,
        status_before: str | None,
    ) -> None:
        expires = charge.subscription_expires_at
        payments_repo.add_event(
            session,
            payment_id=payment.id,
            provider_id=charge.charge_id,
            source=SOURCE,
            event="stars_renewal"
            if charge.is_recurring and not charge.is_first_recurring
            else "succeeded",
            status_before=status_before,
            status_after=PaymentStatus.SUCCEEDED,
            detail={
                "stars": charge.total_amount,
                "is_recurring": charge.is_recurring,
                "is_first_recurring": charge.is_first_recurring,
                "subscription_expires_at": expires.isoformat() if expires else None,
                "provider_charge_id": charge.provider_charge_id,
            },
            at=now,
        )

    @staticmethod
    async def _mark_first_paid(session: AsyncSession, user_id: str, now: datetime) -> None:
        await session.execute(
            update(User)
            .where(User.id == user_id, User.first_paid_at.is_(None))
            .values(first_paid_at=now)
            .execution_options(synchronize_session=False)
        )

    async def _event(self, payment_id: str, charge: StarCharge, event: str) -> None:
        async with self._sessionmaker.begin() as session:
            payments_repo.add_event(
                session,
                payment_id=payment_id,
                provider_id=charge.charge_id,
                source=SOURCE,
                event=event,
                detail={"stars": charge.total_amount, "currency": charge.currency},
                at=self._clock.now(),
            )
