"""Payments as API clients see them: read, update while pending, delete when canceled."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Order, Payment, PaymentEvent, Ticket
from db.repositories import payments as payments_repo
from payments.catalog import Catalog
from payments.ports import Clock, PaymentGateway
from payments.types import PaymentKind, PaymentRequest, PaymentStatus, ReceiptLine
from payments.yookassa.gateway import GatewayError, GatewayRejected

log = logging.getLogger(__name__)

RESERVED_METADATA = frozenset({"qr_codes_issued", "tickets_activated", "superseded"})
CUSTOM_METADATA_LIMIT = 16


class SessionError(Exception):
    """A request the payment cannot honour; the API maps each kind to a status."""


class NotFound(SessionError):
    """No such payment, or not the caller's."""


class NotAllowed(SessionError):
    """Only an admin may do this."""


class NotUpdatable(SessionError):
    """The payment's status or kind does not allow the change."""


class BadMetadata(SessionError):
    """Metadata the client may not set."""

    def __init__(self, key: str, message: str) -> None:
        """Keep the offending key."""
        super().__init__(message)
        self.key = key


class Conflict(SessionError):
    """Someone else changed the payment at the same moment."""


class ProviderFailed(SessionError):
    """YooKassa could not create the replacement payment; nothing was changed."""


@dataclass(frozen=True, slots=True)
class PaymentView:
    """A payment as its owner sees it."""

    payment_id: str
    provider_id: str | None
    kind: str
    user_id: str
    order_id: str | None
    session_id: str | None
    status: str
    amount: Decimal
    refunded_amount: Decimal
    payment_method: str | None
    description: str
    created_at: datetime
    updated_at: datetime
    captured_at: datetime | None
    expires_at: datetime
    confirmation_url: str | None
    return_url: str | None
    cancel_url: str | None
    customer_email: str | None
    customer_phone: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


class Sessions:
    """Read and change payments on behalf of API clients."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: PaymentGateway,
        catalog: Catalog,
        clock: Clock,
        fallback_email_domain: str = "burlive.ru",
    ) -> None:
        """Keep the collaborators and the receipt fallback domain."""
        self._fallback_email_domain = fallback_email_domain
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._catalog = catalog
        self._clock = clock

    async def _load(
        self, session: AsyncSession, payment_id: str, user_id: str, is_admin: bool
    ) -> Payment:
        result = await session.execute(
            select(Payment).where(or_(Payment.id == payment_id, Payment.provider_id == payment_id))
        )
        payment = result.scalar_one_or_none()
        # Another user's payment is "not found", never "forbidden": ids are not to be probed.
        if payment is None or (payment.user_id != user_id and not is_admin):
            raise NotFound(payment_id)
        return payment

    async def _view(self, session: AsyncSession, payment: Payment) -> PaymentView:
        extra = dict(payment.extra or {})
        activated = False
        if payment.order_id is not None:
            used = await session.execute(
                select(func.count(Ticket.id)).where(
                    Ticket.order_id == payment.order_id, Ticket.status == "used"
                )
            )
            activated = int(used.scalar_one()) > 0
        extra["qr_codes_issued"] = bool(extra.get("qr_codes_issued", False))
        extra["tickets_activated"] = activated
        extra.pop("superseded", None)
        return PaymentView(
            payment_id=payment.id,
            provider_id=payment.provider_id,
            kind=payment.kind,
            user_id=payment.user_id,
            order_id=payment.order_id,
            session_id=payment.session_id,
            status=payment.status,
            amount=payment.amount,
            refunded_amount=payment.refunded_amount,
            payment_method=payment.payment_method,
            description=payment.description,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
            captured_at=payment.captured_at,
            expires_at=payment.expires_at,
            confirmation_url=payment.confirmation_url,
            return_url=payment.return_url,
            cancel_url=payment.cancel_url,
            customer_email=payment.customer_email,
            customer_phone=payment.customer_phone,
            metadata=extra,
        )

    async def get(self, payment_id: str, *, user_id: str, is_admin: bool) -> PaymentView:
        """Return a payment by our id or YooKassa's (NotFound if it is not the caller's)."""
        async with self._sessionmaker() as session:
            payment = await self._load(session, payment_id, user_id, is_admin)
            return await self._view(session, payment)

    async def update(
        self,
        payment_id: str,
        *,
        user_id: str,
        is_admin: bool,
        amount: Decimal | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        replace_metadata: bool = False,
        email: str | None = None,
        phone: str | None = None,
    ) -> tuple[PaymentView, list[str]]:
        """Change a pending payment; return it and the fields that changed.

        A new amount (admins only, ticket payments only) replaces the payment at YooKassa:
        the old confirmation link stays payable at YooKassa's end, so the old payment id is
        remembered and an authorisation of it is canceled, never captured (see Fulfilment).
        """
        for key in metadata or {}:
            if key in RESERVED_METADATA:
                raise BadMetadata(key, f"{key} is set by the shop, not by clients")
        async with self._sessionmaker() as session:
            payment = await self._load(session, payment_id, user_id, is_admin)
        if payment.status != PaymentStatus.PENDING:
            raise NotUpdatable(f"a {payment.status} payment cannot be changed")
        changed: list[str] = []
        if amount is not None and amount != payment.amount:
            if not is_admin:
                raise NotAllowed("only an admin can change the amount")
            if payment.kind != PaymentKind.TICKETS:
                raise NotUpdatable("a subscription's amount is set by its plan")
            await self._replace_amount(payment, amount, description, email=email, phone=phone)
            changed.append("amount")
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            current = await self._load(session, payment.id, user_id, is_admin)
            if current.status != PaymentStatus.PENDING:
                raise NotUpdatable(f"a {current.status} payment cannot be changed")
            if description is not None and description != current.description:
                current.description = description
                changed.append("description")
            if metadata is not None:
                extra = dict(current.extra or {})
                custom = {k: v for k, v in extra.items() if k not in RESERVED_METADATA}
                custom = dict(metadata) if replace_metadata else {**custom, **metadata}
                if len(custom) > CUSTOM_METADATA_LIMIT:
                    raise BadMetadata("metadata", f"at most {CUSTOM_METADATA_LIMIT} keys")
                reserved = {k: v for k, v in extra.items() if k in RESERVED_METADATA}
                current.extra = {**reserved, **custom}
                changed.append("metadata")
            if (email, phone) != (None, None) and (email, phone) != (
                current.customer_email,
                current.customer_phone,
            ):
                current.customer_email = email if email is not None else current.customer_email
                current.customer_phone = phone if phone is not None else current.customer_phone
                if current.order_id is not None:
                    order = await session.get(Order, current.order_id)
                    if order is not None:
                        order.email = current.customer_email
                        order.phone = current.customer_phone
                changed.append("customer")
            if changed:
                current.updated_at = now
                payments_repo.add_event(
                    session,
                    payment_id=current.id,
                    provider_id=current.provider_id,
                    source="api",
                    event="updated",
                    status_before=current.status,
                    status_after=current.status,
                    detail={"fields": changed},
                    at=now,
                )
            await session.flush()
            view = await self._view(session, current)
        return view, changed

    async def _replace_amount(
        self,
        payment: Payment,
        amount: Decimal,
        description: str | None,
        *,
        email: str | None = None,
        phone: str | None = None,
    ) -> None:
        """Create a new YooKassa payment for the new amount and point ours at it.

        The receipt goes to the contact the same request sets, if it sets one.
        """
        superseded = list((payment.extra or {}).get("superseded", []))
        key = f"{payment.id}-r{len(superseded) + 1}"
        text = description or payment.description
        shop = self._catalog.shop
        email = email if email is not None else payment.customer_email
        phone = phone if phone is not None else payment.customer_phone
        if not email and not phone:
            email = f"{payment.user_id}@{self._fallback_email_domain}"
        request = PaymentRequest(
            idempotence_key=key,
            amount=amount,
            description=text,
            return_url=payment.return_url or "https://t.me",
            capture=False,
            metadata={
                "payment_id": payment.id,
                "userId": payment.user_id,
                "order_id": payment.order_id or "",
                "kind": payment.kind,
            },
            receipt_lines=[
                ReceiptLine(
                    text,
                    1,
                    amount,
                    shop.vat_code,
                    shop.ticket_payment_subject,
                    shop.ticket_payment_mode,
                )
            ],
            receipt_email=email,
            receipt_phone=None if email else phone,
        )
        try:
            remote = await self._gateway.create_payment(request)
        except GatewayRejected as exc:
            if exc.parameter == "Idempotence-Key":
                # Another admin is replacing this payment with the same key right now.
                raise Conflict("the amount is being changed by someone else") from exc
            raise ProviderFailed(str(exc)) from exc
        except GatewayError as exc:
            raise ProviderFailed(str(exc)) from exc
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            moved = await payments_repo.transition(
                session,
                payment.id,
                to=PaymentStatus.PENDING,
                from_statuses=[PaymentStatus.PENDING],
                values={
                    "amount": amount,
                    "provider_id": remote.id,
                    "idempotence_key": key,
                    "confirmation_url": remote.confirmation_url,
                    "updated_at": now,
                    "extra": {
                        **(payment.extra or {}),
                        "superseded": [*superseded, payment.provider_id],
                    },
                },
            )
            if not moved:
                raise NotUpdatable("the payment moved on while its amount was being changed")
            if payment.order_id is not None:
                order = await session.get(Order, payment.order_id)
                if order is not None:
                    order.total = amount
            payments_repo.add_event(
                session,
                payment_id=payment.id,
                provider_id=remote.id,
                source="api",
                event="amount_replaced",
                detail={
                    "old": str(payment.amount),
                    "new": str(amount),
                    "superseded": payment.provider_id,
                },
                at=now,
            )

    async def delete(self, payment_id: str, *, user_id: str, is_admin: bool) -> str:
        """Delete a canceled payment (admins only); return our id."""
        if not is_admin:
            # A non-admin learns nothing about payments that are not theirs.
            async with self._sessionmaker() as session:
                await self._load(session, payment_id, user_id, is_admin)
            raise NotAllowed("only an admin can delete payments")
        async with self._sessionmaker.begin() as session:
            payment = await self._load(session, payment_id, user_id, is_admin)
            if payment.status != PaymentStatus.CANCELED:
                raise NotUpdatable(
                    f"only canceled payments can be deleted, this one is {payment.status}"
                )
            order_id = payment.order_id
            deleted = await session.execute(
                delete(Payment)
                .where(Payment.id == payment.id, Payment.status == "canceled")
                .returning(Payment.id)
            )
            if deleted.first() is None:  # YooKassa authorised it after all, meanwhile
                raise NotUpdatable("only canceled payments can be deleted, this one changed")
            # Its history goes with it (no foreign key cascades it: migration 0011).
            await session.execute(delete(PaymentEvent).where(PaymentEvent.payment_id == payment.id))
            if order_id is not None:
                others = await session.execute(
                    select(func.count(Payment.id)).where(Payment.order_id == order_id)
                )
                if int(others.scalar_one()) == 0:
                    await session.execute(delete(Order).where(Order.id == order_id))
            return payment.id
