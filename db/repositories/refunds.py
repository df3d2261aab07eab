"""Refunds: the reservation on the payment and each refund row's states, as conditional UPDATEs.

`payments.refunded_amount` counts refunds that succeeded or are still on their way: a refund
is reserved (`refunded_amount + x <= amount`, one UPDATE) before YooKassa is asked, and given
back if YooKassa refuses or cancels it. So two admins can never refund more than was paid.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment, Refund

ZERO = Decimal("0.00")


async def reserve(
    session: AsyncSession, payment_id: str, amount: Decimal, *, expected: Decimal | None = None
) -> bool:
    """Raise a succeeded payment's refunded amount by `amount` unless that exceeds what was paid.

    With `expected`, only if the refunded amount is still exactly that (a confirmed preview).
    """
    conditions = [
        Payment.id == payment_id,
        Payment.status == "succeeded",
        Payment.refunded_amount + amount <= Payment.amount,
    ]
    if expected is not None:
        conditions.append(Payment.refunded_amount == expected)
    result = await session.execute(
        update(Payment)
        .where(*conditions)
        .values(refunded_amount=Payment.refunded_amount + amount)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def unreserve(session: AsyncSession, payment_id: str, amount: Decimal) -> bool:
    """Give back a reservation whose refund did not happen."""
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.refunded_amount >= amount)
        .values(refunded_amount=Payment.refunded_amount - amount)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def get_refund(session: AsyncSession, refund_id: int) -> Refund | None:
    """Return a refund row, read afresh."""
    result = await session.execute(
        select(Refund).where(Refund.id == refund_id).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def by_provider_id(session: AsyncSession, provider_id: str) -> Refund | None:
    """Return our row of a YooKassa refund."""
    result = await session.execute(
        select(Refund)
        .where(Refund.provider_id == provider_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def unanswered(session: AsyncSession, payment_id: str) -> Refund | None:
    """Return a pending refund of a payment that YooKassa has not answered for yet."""
    result = await session.execute(
        select(Refund)
        .where(
            Refund.payment_id == payment_id,
            Refund.status == "pending",
            Refund.provider_id.is_(None),
        )
        .order_by(Refund.id)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def claim(session: AsyncSession, refund_id: int, provider_id: str) -> bool:
    """Tie our row to YooKassa's refund id (idempotent for the same id)."""
    result = await session.execute(
        update(Refund)
        .where(
            Refund.id == refund_id,
            (Refund.provider_id.is_(None)) | (Refund.provider_id == provider_id),
        )
        .values(provider_id=provider_id)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def claim_matching(
    session: AsyncSession, payment_id: str, amount: Decimal, provider_id: str
) -> Refund | None:
    """Tie YooKassa's refund to our unanswered row of the same payment and amount, if any.

    A notification can arrive before the admin flow stored YooKassa's answer.
    """
    row = await unanswered(session, payment_id)
    if row is None or row.amount != amount:
        return None
    if not await claim(session, row.id, provider_id):
        return await by_provider_id(session, provider_id)
    return await get_refund(session, row.id)


async def settle(session: AsyncSession, refund_id: int, now: datetime) -> bool:
    """Mark a refund succeeded and applied, once; return whether this call did it."""
    result = await session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == "pending", Refund.applied_at.is_(None))
        .values(status="succeeded", applied_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def cancel(session: AsyncSession, refund_id: int) -> bool:
    """Mark a pending refund canceled, once; return whether this call did it."""
    result = await session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == "pending")
        .values(status="canceled")
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def applied_total(session: AsyncSession, payment_id: str) -> Decimal:
    """Return the sum of a payment's refunds that succeeded and were applied."""
    result = await session.execute(
        select(func.sum(Refund.amount)).where(
            Refund.payment_id == payment_id, Refund.applied_at.is_not(None)
        )
    )
    total = result.scalar_one_or_none()
    return Decimal(total) if total is not None else ZERO


async def of_payment(session: AsyncSession, payment_id: str) -> list[Refund]:
    """Return a payment's refunds, oldest first."""
    result = await session.execute(
        select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)
    )
    return list(result.scalars())
