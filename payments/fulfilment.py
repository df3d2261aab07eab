"""Apply what YooKassa says about a payment: one conditional transition, effects exactly once.

Whoever sees a payment first (webhook, reconciler, status endpoint, expiry sweep) calls
`Fulfilment.apply` with the payment as fetched from YooKassa. The transition is a single
conditional UPDATE; only the caller whose UPDATE moved the row runs the effects
(`payments/effects.py`: subscription days or tickets) in the same transaction, and so is the
customer's message: it is written to the outbox (payments/outbox/) with the change, and the
sending lane delivers it after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, User
from db.reader import Reader
from db.repositories import payments as payments_repo
from db.repositories import users as users_repo
from payments.applied import Applied, Outcome, disagreement, recipient_of
from payments.catalog import Catalog
from payments.effects import Effects
from payments.outbox.notes import enqueue_note
from payments.ports import Clock, PaymentCanceled, PaymentGateway
from payments.subscriptions.outcomes import RenewalPolicy, renewal_declined
from payments.superseded import settle_superseded
from payments.tickets.seats import release_order_seats, reserve_for_capture
from payments.tickets.signing import TicketSigner
from payments.types import CancelReason, PaymentStatus, ProviderPayment
from payments.yookassa.gateway import GatewayError, GatewayNotFound, GatewayUnavailable

log = logging.getLogger(__name__)

__all__ = ["Applied", "Fulfilment", "Outcome", "recipient_of"]

OPEN = (PaymentStatus.PENDING, PaymentStatus.WAITING_FOR_CAPTURE)
# YooKassa's word beats our timer: a payment we gave up on (expired, or canceled by the user
# while the checkout page stayed open) that YooKassa then authorised or charged is honoured.
REVIVABLE = (CancelReason.EXPIRED.value, CancelReason.USER.value)

AfterCommit = Callable[[], Awaitable[None]]

# A customer's language alone (when no notification's look-up brought it): a column read,
# built once.
_LANGUAGE = select(User.language).where(User.id == bindparam("user_id"))


class Fulfilment:
    """Turn YooKassa's view of a payment into our state, once."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: PaymentGateway,
        catalog: Catalog,
        clock: Clock,
        reader: Reader,
        signer: TicketSigner,
        renewal_policy: RenewalPolicy | None = None,
        wake: Callable[[], None] | None = None,
        mail_tickets: bool = False,
    ) -> None:
        """Keep the collaborators; reads go through `reader`, `signer` signs ticket QRs.

        `renewal_policy` says when a declined renewal is tried again and how long access stays;
        `wake` tells the sending lane after commit that a message waits (else it finds it on
        its next poll); `mail_tickets` (SMTP configured) also writes the tickets' e-mail.
        """
        self._renewal_policy = renewal_policy or RenewalPolicy()
        self._reader = reader
        self._effects = Effects(catalog=catalog, signer=signer, mail_tickets=mail_tickets)
        self._wake = wake
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._catalog = catalog
        self._clock = clock

    async def refresh(self, payment_id: str, *, source: str) -> Applied:
        """Ask YooKassa about one of our payments and apply the answer."""
        async with self._sessionmaker() as session:
            payment = await payments_repo.get_payment(session, payment_id)
        if payment is None:
            return Applied(Outcome.UNKNOWN)
        if payment.provider_id is None:
            return Applied(Outcome.WAITING, payment.id, PaymentStatus(payment.status))
        try:
            remote = await self._gateway.get_payment(payment.provider_id)
        except GatewayNotFound:
            log.warning("payment %s: YooKassa does not know %s", payment.id, payment.provider_id)
            return Applied(Outcome.UNKNOWN, payment.id, PaymentStatus(payment.status))
        except GatewayError as exc:
            log.warning("payment %s: cannot ask YooKassa: %s", payment.id, exc)
            return Applied(Outcome.RETRY, payment.id, PaymentStatus(payment.status))
        return await self.apply(remote, source=source)

    async def apply(self, remote: ProviderPayment, *, source: str) -> Applied:
        """Apply a payment as fetched from YooKassa (never as a webhook body claims it)."""
        found = await self._find(remote)
        if found is None:
            return await settle_superseded(
                remote,
                source,
                sessionmaker=self._sessionmaker,
                gateway=self._gateway,
                record=self._record,
            )
        payment, language = found
        problem = disagreement(payment, remote)
        if problem:
            log.error("payment %s: YooKassa %s disagrees: %s", payment.id, remote.id, problem)
            await self._record(payment, remote, source, f"mismatch:{remote.status}", problem)
            return Applied(Outcome.MISMATCH, payment.id, PaymentStatus(payment.status))
        if remote.status is PaymentStatus.PENDING:
            return Applied(Outcome.WAITING, payment.id, PaymentStatus(payment.status))
        if remote.status is PaymentStatus.WAITING_FOR_CAPTURE:
            return await self._authorised(payment, remote, source)
        if remote.status is PaymentStatus.SUCCEEDED:
            return await self._succeeded(payment, remote, source, language)
        return await self._canceled(payment, remote, source, language=language)

    # ---- look-up and checks -------------------------------------------------------------

    async def _find(self, remote: ProviderPayment) -> tuple[Payment, str] | None:
        """Return our payment behind `remote` and its customer's language, or None."""
        ours = remote.metadata.get("payment_id") or ""
        rows = await self._reader.rows(
            payments_repo.BY_EITHER_ID, {"provider_id": remote.id, "ours": ours}
        )
        found = [payments_repo.payment_of(row) for row in rows]
        match = next((f for f in found if f[0].provider_id == remote.id), None)
        if match is not None:
            return match[0], match[1] or "ru"
        match = next((f for f in found if f[0].id == ours), None)
        if match is None or match[0].provider_id not in (None, remote.id):
            return None
        payment = match[0]
        # We crashed between creating it at YooKassa and storing its id: adopt it now.
        async with self._sessionmaker.begin() as session:
            await payments_repo.set_fields(session, payment.id, provider_id=remote.id)
        payment.provider_id = remote.id
        return payment, match[1] or "ru"

    async def _record(
        self, payment: Payment, remote: ProviderPayment, source: str, event: str, note: str = ""
    ) -> None:
        async with self._sessionmaker.begin() as session:
            payments_repo.add_event(
                session,
                payment_id=payment.id,
                provider_id=remote.id,
                source=source,
                event=event,
                status_before=payment.status,
                status_after=payment.status,
                detail={"note": note} if note else {},
                at=self._clock.now(),
            )

    # ---- transitions --------------------------------------------------------------------

    async def _authorised(self, payment: Payment, remote: ProviderPayment, source: str) -> Applied:
        """Money is authorised (two-stage): capture it if we can deliver, release it if not."""
        if payment.status == PaymentStatus.SUCCEEDED:
            await self._record(payment, remote, source, "late:waiting_for_capture")
            return Applied(Outcome.ALREADY, payment.id, PaymentStatus.SUCCEEDED)
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            moved = await payments_repo.transition(
                session,
                payment.id,
                to=PaymentStatus.WAITING_FOR_CAPTURE,
                from_statuses=[PaymentStatus.PENDING],
                revive_reasons=REVIVABLE,
                values={"updated_at": now, "cancel_reason": None},
            )
            current = await payments_repo.get_payment(session, payment.id)
            assert current is not None  # noqa: S101 - the row exists, we just read it
            captured = current.status == PaymentStatus.SUCCEEDED
            deliverable = current.status == PaymentStatus.WAITING_FOR_CAPTURE and (
                await reserve_for_capture(session, current, self._catalog.tickets.capacity_per_slot)
            )
            if current.status == PaymentStatus.WAITING_FOR_CAPTURE and not deliverable:
                # The cancel below makes YooKassa send payment.canceled, which the webhook may
                # apply before this call returns: the row says why we cancel, so whoever
                # applies it tells the customer the seats are gone, not "declined".
                await payments_repo.transition(
                    session,
                    payment.id,
                    to=PaymentStatus.WAITING_FOR_CAPTURE,
                    from_statuses=[PaymentStatus.WAITING_FOR_CAPTURE],
                    values={"cancel_reason": CancelReason.SOLD_OUT.value},
                )
            payments_repo.add_event(
                session,
                payment_id=payment.id,
                provider_id=remote.id,
                source=source,
                event="waiting_for_capture",
                status_before=payment.status,
                status_after=current.status,
                detail={"moved": moved, "deliverable": deliverable},
                at=now,
            )
        if captured:
            # A racing worker captured it after we looked: nothing to release, and a cancel
            # of a captured payment would only be refused.
            log.info("payment %s: captured meanwhile; no cancel", payment.id)
            return Applied(Outcome.ALREADY, payment.id, PaymentStatus.SUCCEEDED)
        key_base = payment.idempotence_key
        try:
            if deliverable:
                result = await self._gateway.capture_payment(
                    remote.id, payment.amount, f"{key_base}-capture"
                )
            else:
                result = await self._gateway.cancel_payment(remote.id, f"{key_base}-cancel")
        except GatewayUnavailable as exc:
            log.warning("payment %s: capture/cancel not answered: %s", payment.id, exc)
            return Applied(Outcome.RETRY, payment.id, PaymentStatus.WAITING_FOR_CAPTURE)
        except GatewayError as exc:
            # Already captured or canceled by a racing worker: read the truth and apply it.
            log.info("payment %s: capture/cancel refused (%s); re-reading", payment.id, exc)
            try:
                result = await self._gateway.get_payment(remote.id)
            except GatewayError:
                return Applied(Outcome.RETRY, payment.id, PaymentStatus.WAITING_FOR_CAPTURE)
            if result.status is PaymentStatus.WAITING_FOR_CAPTURE:
                return Applied(Outcome.RETRY, payment.id, PaymentStatus.WAITING_FOR_CAPTURE)
        if not deliverable and result.status is PaymentStatus.CANCELED:
            # We released the money because the seats are gone: say so, not "declined".
            return await self._canceled(payment, result, source, reason=CancelReason.SOLD_OUT.value)
        return await self.apply(result, source=source)

    async def _succeeded(
        self, payment: Payment, remote: ProviderPayment, source: str, language: str
    ) -> Applied:
        now = self._clock.now()
        after_commit: list[AfterCommit] = []
        async with self._sessionmaker.begin() as session:
            moved = await payments_repo.transition(
                session,
                payment.id,
                to=PaymentStatus.SUCCEEDED,
                from_statuses=OPEN,
                revive_reasons=REVIVABLE,
                values={
                    "updated_at": now,
                    "captured_at": remote.captured_at or now,
                    "payment_method": remote.payment_method,
                    "fulfilled_at": now,
                    "cancel_reason": None,
                },
            )
            await payments_repo.record_event(
                session,
                payment_id=payment.id,
                provider_id=remote.id,
                source=source,
                event="succeeded" if moved else "repeat:succeeded",
                status_before=payment.status,
                status_after=PaymentStatus.SUCCEEDED if moved else payment.status,
                at=now,
            )
            if moved:
                if not payment.is_test:
                    await users_repo.mark_first_paid(session, payment.user_id, now)
                after_commit.append(await self.deliver(session, payment, language, remote))
            else:
                current = await self._status(session, payment.id)
        if not moved:
            return Applied(Outcome.ALREADY, payment.id, current)
        log.info("payment %s succeeded (%s); fulfilled", payment.id, source)
        for send in after_commit:
            await self._after_commit(payment.id, send)
        return Applied(Outcome.APPLIED, payment.id, PaymentStatus.SUCCEEDED)

    async def _canceled(
        self,
        payment: Payment,
        remote: ProviderPayment,
        source: str,
        reason: str | None = None,
        language: str | None = None,
    ) -> Applied:
        now = self._clock.now()
        if reason is None and payment.status == PaymentStatus.WAITING_FOR_CAPTURE:
            reason = payment.cancel_reason  # our own cancel's why (see _authorised), if ours
        reason = (
            reason or f"{CancelReason.PROVIDER.value}:{remote.cancellation_reason or 'unknown'}"
        )
        if language is None:  # read before taking the write lock
            language = await self._language(payment.user_id)
        async with self._sessionmaker.begin() as session:
            moved = await payments_repo.transition(
                session,
                payment.id,
                to=PaymentStatus.CANCELED,
                from_statuses=OPEN,
                values={"updated_at": now, "cancel_reason": reason},
            )
            payments_repo.add_event(
                session,
                payment_id=payment.id,
                provider_id=remote.id,
                source=source,
                event="canceled" if moved else "repeat:canceled",
                status_before=payment.status,
                status_after=PaymentStatus.CANCELED if moved else payment.status,
                detail={"reason": reason},
                at=now,
            )
            if moved:
                await release_order_seats(session, payment)
                declined = await renewal_declined(
                    session,
                    payment,
                    remote.cancellation_reason or reason,
                    recipient_of(payment, language),
                    now=now,
                    policy=self._renewal_policy,
                )
                if declined is not None:
                    await enqueue_note(session, declined, dedupe_key=payment.id)
                else:
                    note = PaymentCanceled(
                        recipient_of(payment, language),
                        payment.id,
                        reason,
                        payment.kind,
                        payment.order_id,
                    )
                    # A payment given up on, revived and then released has two endings.
                    await enqueue_note(session, note, dedupe_key=f"{payment.id}:{reason}")
            else:
                current = await self._status(session, payment.id)
        if not moved:
            return Applied(Outcome.ALREADY, payment.id, current)
        await self._after_commit(payment.id, self._woken)
        return Applied(Outcome.APPLIED, payment.id, PaymentStatus.CANCELED)

    async def decline_unsent(self, payment_id: str, *, reason: str, note: str) -> Applied:
        """End a payment YooKassa refused to create (4xx) as declined with `reason`."""
        async with self._sessionmaker() as session:
            payment = await payments_repo.get_payment(session, payment_id)
        if payment is None:
            return Applied(Outcome.UNKNOWN)
        refused = ProviderPayment(
            id=payment.provider_id or "",
            status=PaymentStatus.CANCELED,
            paid=False,
            amount=payment.amount,
            currency=payment.currency,
            metadata={"payment_id": payment.id, "note": note},
            cancellation_party="yoo_money",
            cancellation_reason=reason,
        )
        return await self._canceled(payment, refused, "renewal")

    async def _language(self, user_id: str) -> str:
        """Read a user's language outside the write transaction."""
        rows = await self._reader.rows(_LANGUAGE, {"user_id": user_id})
        return str(rows[0][0]) if rows else "ru"

    @staticmethod
    async def _status(session: AsyncSession, payment_id: str) -> PaymentStatus:
        """Read a payment's status as committed now (another worker may have just moved it)."""
        result = await session.execute(select(Payment.status).where(Payment.id == payment_id))
        return PaymentStatus(result.scalar_one())

    async def _after_commit(self, payment_id: str, send: AfterCommit) -> None:
        """Run what follows the commit (wake the sending lane); never undo the state."""
        try:
            await send()
        except Exception:
            # The state and its message are committed; the lane sends it on its next poll.
            log.exception("payment %s: waking the sending lane failed", payment_id)

    async def _woken(self) -> None:
        """Tell the sending lane a message waits (the outbox row is committed already)."""
        if self._wake is not None:
            self._wake()

    # ---- effects ------------------------------------------------------------------------

    async def deliver(
        self,
        session: AsyncSession,
        payment: Payment,
        language: str,
        remote: ProviderPayment | None = None,
    ) -> AfterCommit:
        """Run the effects of a succeeded payment inside its transaction, message included.

        See payments/effects.py; the returned callable wakes the sending lane after commit.
        """
        await self._effects.apply(
            session, payment, recipient_of(payment, language), now=self._clock.now(), remote=remote
        )
        return self._woken
