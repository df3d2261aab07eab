"""Succeeded Stars payments: refunding them, and cancelling the subscription's renewal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment
from db.reader import Reader
from db.repositories import payments as payments_repo
from payments.admin.settlement import RefundApplied, RefundSettlement
from payments.ports import Clock
from payments.types import PaymentStatus, ProviderRefund

CURRENCY = "XTR"
PROVIDER = "telegram_stars"
SOURCE = "telegram"


# A user's succeeded Stars charges, newest first, as columns. Built once: /my asks on every
# update, and building the statement, a session and mapped rows cost more than the read.
STARS_CHARGES = (
    select(
        Payment.id,
        Payment.user_id,
        Payment.provider_id,
        Payment.amount,
        Payment.extra.label("extra"),
    )
    .where(
        Payment.user_id == bindparam("user_id"),
        Payment.currency == CURRENCY,
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.provider_id.is_not(None),
    )
    .order_by(Payment.created_at.desc())
)


def stars_of(amount: Decimal) -> int:
    """Return a Stars payment's amount as whole Stars."""
    return int(amount)


@dataclass(frozen=True, slots=True)
class StarsTarget:
    """A succeeded Stars payment the bot can refund or whose subscription it can cancel."""

    payment_id: str
    user_id: str
    charge_id: str
    stars: int


class StarsAccounts:
    """Find, refund and stop renewing succeeded Stars payments."""

    _sessionmaker: async_sessionmaker[AsyncSession]
    _reader: Reader
    _settlement: RefundSettlement
    _clock: Clock

    async def refundable(self, reference: str) -> StarsTarget | None:
        """Return a succeeded, unrefunded Stars payment by our id or its charge id, else None."""
        async with self._sessionmaker() as session:
            payment = (
                await session.execute(
                    select(Payment).where(
                        or_(Payment.id == reference, Payment.provider_id == reference),
                        Payment.currency == CURRENCY,
                    )
                )
            ).scalar_one_or_none()
        if (
            payment is None
            or payment.provider_id is None
            or payment.status != PaymentStatus.SUCCEEDED
            or payment.refunded_amount > 0
        ):
            return None
        return StarsTarget(
            payment.id, payment.user_id, payment.provider_id, stars_of(payment.amount)
        )

    async def is_stars_payment(self, reference: str) -> bool:
        """Return whether our id or charge id names a Stars payment (refundable or not)."""
        async with self._sessionmaker() as session:
            found = await session.scalar(
                select(Payment.id).where(
                    or_(Payment.id == reference, Payment.provider_id == reference),
                    Payment.currency == CURRENCY,
                )
            )
        return found is not None

    async def refunded(self, target: StarsTarget) -> RefundApplied:
        """Record that Telegram gave a payment's Stars back; the period comes off, once."""
        async with self._sessionmaker() as session:
            payment = await payments_repo.get_payment(session, target.payment_id)
        assert payment is not None  # noqa: S101 - a target is one of our payments
        return await self._settlement.apply_refund(
            ProviderRefund(
                id=f"stars-refund:{target.charge_id}"[:64],
                payment_id=target.charge_id,
                status="succeeded",
                amount=payment.amount,
            ),
            source=SOURCE,
        )

    async def renewing(self, user_id: str) -> StarsTarget | None:
        """Return the user's latest Stars subscription that renews (first charge), if any."""
        for row in await self._reader.rows(STARS_CHARGES, {"user_id": user_id}):
            if "renews" in row.extra or row.extra.get("stars_canceled"):
                continue
            return StarsTarget(row.id, row.user_id, row.provider_id, stars_of(row.amount))
        return None

    async def renewal_canceled(self, target: StarsTarget) -> None:
        """Record that Telegram will not renew this Stars subscription any more."""
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            payment = await payments_repo.get_payment(session, target.payment_id)
            if payment is None:
                return
            await payments_repo.set_fields(
                session,
                payment.id,
                extra={**payment.extra, "stars_canceled": now.isoformat()},
                updated_at=now,
            )
            payments_repo.add_event(
                session,
                payment_id=payment.id,
                provider_id=target.charge_id,
                source=SOURCE,
                event="stars_renewal_canceled",
                at=now,
            )
