"""The two-transaction flow every checkout runs: tx 1 writes the pending row, YooKassa answers
with no transaction open, tx 2 stores the confirmation URL. A failure at YooKassa cancels the row
(and gives back what tx 1 held), so nothing is left half-done; a checkout cut short by shutdown
is released in a task a cancel cannot stop.

What tx 1 writes is the product's business (`payments/checkout/flow.py` passes it in).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, User
from db.repositories import payments as payments_repo
from payments.catalog import Catalog
from payments.checkout import reuse as reuse_mod
from payments.checkout.draft import CheckoutConfig, Draft
from payments.checkout.errors import ProviderDown, SoldOut, TooManyPending, UnknownUser
from payments.checkout.results import CheckoutResult, result_of
from payments.ports import Clock, PaymentGateway
from payments.tickets.seats import release_order_seats
from payments.types import CancelReason, PaymentStatus, ProviderPayment
from payments.yookassa.gateway import GatewayError, GatewayUnavailable

log = logging.getLogger(__name__)

PAYMENT_ID_DIGITS = 10
# cancel_reason of a checkout cut short before its link reached the customer (shutdown).
INTERRUPTED = "interrupted"


Reuse = Callable[[AsyncSession], Awaitable[Payment | None]]
# Built once: every checkout runs it first (see db/repositories/inventory.py).
_LOCK_USER = select(User).where(User.id == bindparam("p_user")).with_for_update()


def new_payment_id() -> str:
    """Return a fresh payment id: `ZT_` and ten random digits."""
    return f"ZT_{secrets.randbelow(10**PAYMENT_ID_DIGITS):0{PAYMENT_ID_DIGITS}d}"


class PaymentFlow:
    """Run a checkout's transactions around the YooKassa call; cancel what fails."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: PaymentGateway,
        catalog: Catalog,
        clock: Clock,
        config: CheckoutConfig,
        tz: ZoneInfo,
    ) -> None:
        """Keep the collaborators."""
        self._tz = tz
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._catalog = catalog
        self._clock = clock
        self._config = config
        self._releases: set[asyncio.Task[None]] = set()

    # ---- the shared flow ----------------------------------------------------------------

    async def _check_pending_limit(self, session: AsyncSession, user_id: str) -> None:
        now = self._clock.now()
        window = timedelta(minutes=self._config.pending_window_minutes)
        count, oldest = await payments_repo.open_payments_since(session, user_id, now - window)
        if count >= self._config.pending_limit:
            retry_after = max(1, int(((oldest or now) + window - now).total_seconds()) + 1)
            raise TooManyPending(retry_after)

    async def _lock_user(self, session: AsyncSession, user_id: str) -> User:
        # Serialises one user's checkouts on PostgreSQL, so the pending limit cannot be raced;
        # SQLite's BEGIN IMMEDIATE already serialises every writer.
        result = await session.execute(_LOCK_USER, {"p_user": user_id})
        user = result.scalar_one_or_none()
        if user is None:
            raise UnknownUser(user_id)
        return user

    async def run(
        self,
        user_id: str,
        prepare: Callable[[AsyncSession, User, str], Awaitable[Draft]],
        reuse: Reuse | None = None,
        *,
        message_id: int | None = None,
        claim: Callable[[], Awaitable[None]] | None = None,
    ) -> CheckoutResult:
        """Run tx 1 (`prepare` writes the pending row), call YooKassa, then run tx 2.

        With `reuse`, tx 1 first looks for a pending payment with the same choices (the user's
        row is locked, so a concurrent checkout of this user waits) and hands that one out.
        `message_id`: the chat message that will show the pay button, remembered by tx 2 for a
        new payment (a reused one keeps its own: see `attach_message`).
        `claim`: takes what tx 1 wrote without (a ticket order's seats, on PostgreSQL) right
        after it; SoldOut from it cancels the new payment as sold out, before YooKassa is asked.
        """
        for attempt in range(3):
            payment_id = new_payment_id()
            try:
                async with self._sessionmaker.begin() as session:
                    user = await self._lock_user(session, user_id)
                    existing = await reuse(session) if reuse else None
                    if existing is not None:
                        break
                    await self._check_pending_limit(session, user_id)
                    draft = await prepare(session, user, payment_id)
                break
            except IntegrityError:
                # Ten random digits collided with an existing id; draw again.
                if attempt == 2:  # noqa: PLR2004
                    raise
        if existing is not None:
            log.info("payment %s: the same choices again; reusing it", existing.id)
            return result_of(await reuse_mod.wait_for_link(self._sessionmaker, existing.id))
        if claim is not None:
            await self._claim(payment_id, claim)
        try:
            remote = await self._create_remote(payment_id, draft, message_id)
        except asyncio.CancelledError:
            # Cut short (shutdown past its grace, say): the customer never gets this link, so
            # the row is canceled and its seats released now, not by the expiry sweep.
            log.warning("payment %s: checkout cut short; canceling it", payment_id)
            await self._let_go(payment_id)
            raise
        log.info("payment %s created at YooKassa as %s", payment_id, remote.id)
        return CheckoutResult(
            payment_id=payment_id,
            provider_id=remote.id,
            confirmation_url=remote.confirmation_url or "",
            amount=draft.request.amount,
            description=draft.request.description,
            expires_at=draft.expires_at,
            is_test=draft.is_test,
        )

    async def _claim(self, payment_id: str, claim: Callable[[], Awaitable[None]]) -> None:
        """Run `claim` for the payment tx 1 wrote; if it fails, cancel the payment (as sold out
        when the seats went to others) and raise what it raised."""
        try:
            await claim()
        except SoldOut:
            log.info("payment %s: the seats went to others before they were held", payment_id)
            await self._abandon(
                payment_id, CancelReason.SOLD_OUT, "sold out before the hold", event="sold_out"
            )
            raise
        except asyncio.CancelledError:
            await self._let_go(payment_id)
            raise
        except Exception as exc:
            # Left pending, the payment would count in the customer's unpaid seats until the
            # expiry sweep took it: a failed 20-seat checkout would refuse the next for minutes.
            log.warning(
                "payment %s: its seats could not be held (%s); canceling it", payment_id, exc
            )
            with contextlib.suppress(SQLAlchemyError):  # the database is down: the sweep will
                await self._abandon(
                    payment_id, INTERRUPTED, f"seats not held: {exc}", event="interrupted"
                )
            raise

    async def _create_remote(
        self, payment_id: str, draft: Draft, message_id: int | None
    ) -> ProviderPayment:
        """Ask YooKassa for the payment, then run tx 2 (store its id, link and message)."""
        try:
            remote = await self._gateway.create_payment(draft.request)
        except GatewayError as exc:
            reason = (
                "provider:unavailable" if isinstance(exc, GatewayUnavailable) else "provider:error"
            )
            log.warning("payment %s: YooKassa refused or failed: %s", payment_id, exc)
            await self._abandon(payment_id, reason, str(exc))
            raise ProviderDown(str(exc)) from exc
        now = self._clock.now()
        # The pay button's message too, when known: a write of its own (`attach_message`)
        # waited for SQLite's writer once more per checkout.
        shown = {} if message_id is None else {"chat_message_id": message_id}
        values = {
            "provider_id": remote.id,
            "confirmation_url": remote.confirmation_url,
            "updated_at": now,
            **shown,
        }
        await payments_repo.set_fields_with_event(  # the update and its event, committed
            self._sessionmaker,
            payment_id,
            values,
            source="checkout",
            event="provider_created",
            status_after=remote.status.value,
            at=now,
        )
        return remote

    async def _let_go(self, payment_id: str) -> None:
        """Cancel a cut-short checkout's row in a task of its own, which a cancel cannot stop.

        The caller waits for it (shielded); a second cancel stops only the waiting, and
        `settle()` lets shutdown wait for what is still being released.
        """
        release = asyncio.create_task(
            self._abandon(payment_id, INTERRUPTED, "checkout cut short", event="interrupted"),
            name=f"release-{payment_id}",
        )
        self._releases.add(release)
        release.add_done_callback(self._releases.discard)
        await asyncio.shield(release)

    async def settle(self, timeout: float) -> None:  # noqa: ASYNC109 - a bounded wait on stop
        """Wait (at most `timeout` seconds) until cut-short checkouts are released."""
        if self._releases:
            await asyncio.wait(set(self._releases), timeout=timeout)

    async def _abandon(
        self, payment_id: str, reason: str, detail: str, *, event: str = "provider_failed"
    ) -> None:
        """Cancel our row after YooKassa failed, releasing whatever tx 1 held."""
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            await self._cancel_pending(session, payment_id, reason, now)
            payments_repo.add_event(
                session,
                payment_id=payment_id,
                provider_id=None,
                source="checkout",
                event=event,
                status_before=PaymentStatus.PENDING,
                status_after=PaymentStatus.CANCELED,
                detail={"error": detail[:500]},
                at=now,
            )

    async def _cancel_pending(
        self, session: AsyncSession, payment_id: str, reason: str, now: datetime
    ) -> bool:
        """Cancel a payment still pending and give back what it held; False: it was not."""
        moved = await payments_repo.transition(
            session,
            payment_id,
            to=PaymentStatus.CANCELED,
            from_statuses=[PaymentStatus.PENDING],
            values={"cancel_reason": reason, "updated_at": now},
        )
        if moved:
            await self.on_abandoned(session, payment_id)
        return moved

    async def on_abandoned(self, session: AsyncSession, payment_id: str) -> None:
        """Give back the seats of a ticket payment that will not be paid."""
        payment = await payments_repo.get_payment(session, payment_id)
        if payment is not None:
            await release_order_seats(session, payment)

    async def attach_message(self, payment_id: str, message_id: int) -> None:
        """Remember the chat message with the pay button, so later news can edit it."""
        async with self._sessionmaker.begin() as session:
            await payments_repo.set_fields(session, payment_id, chat_message_id=message_id)

    async def cancel_by_user(self, payment_id: str, user_id: str) -> bool:
        """Cancel a user's own pending payment; return whether it was still pending."""
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            payment = await payments_repo.get_payment(session, payment_id)
            if payment is None or payment.user_id != user_id:
                return False
            moved = await self._cancel_pending(session, payment_id, "user", now)
            if moved:
                payments_repo.add_event(
                    session,
                    payment_id=payment_id,
                    provider_id=payment.provider_id,
                    source="user",
                    event="canceled_by_user",
                    status_before=PaymentStatus.PENDING,
                    status_after=PaymentStatus.CANCELED,
                    at=now,
                )
            return moved
