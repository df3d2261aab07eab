"""Start a payment for a product: a plan, a declined renewal paid by hand, tickets, or a retry
after a decline. Each builds its tx 1 (`prepare`, and `reuse` for the same choices again) and
hands it to the two-transaction flow in `payments/checkout/transactions.py`.

What tx 1 writes depends on the product: `payments/tickets/checkout.py` holds seats and writes
the order, `payments/subscriptions/checkout.py` prices the plan.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Payment, User
from db.repositories import payments as payments_repo
from payments.checkout import reuse as reuse_mod
from payments.checkout.draft import Draft
from payments.checkout.errors import UnknownProduct
from payments.checkout.results import CheckoutResult, Retried, TicketCheckoutResult, result_of
from payments.checkout.retry import LivePayment, retry_target, retry_ticket_draft
from payments.checkout.transactions import PaymentFlow
from payments.subscriptions.checkout import plan_draft, renewal_draft
from payments.subscriptions.consent import AutoRenewConsent
from payments.subscriptions.quotes import quote_plan
from payments.tickets.checkout import (
    TicketPurchase,
    hold_order,
    hot_rows_apart,
    number_in,
    number_order,
    ticket_draft,
)
from payments.tickets.rules import ValidOrder
from payments.types import PaymentKind, PriceQuote


class Checkout(PaymentFlow):
    """Start subscription (and ticket) payments."""

    async def quote_plans(self, user_id: str) -> list[PriceQuote]:
        """Return every plan sold for roubles with this user's price (digital plans: Stars)."""
        async with self._sessionmaker() as session:
            return [
                await quote_plan(
                    session,
                    user_id,
                    plan,
                    catalog=self._catalog,
                    clock=self._clock,
                    config=self._config,
                )
                for plan in self._catalog.rouble_plans
            ]

    # ---- the products ------------------------------------------------------------------

    async def start_subscription(
        self,
        user_id: str,
        plan_code: str,
        *,
        return_url: str,
        source: str = "bot",
        email: str | None = None,
        phone: str | None = None,
        reuse_pending: bool = False,
        auto_renew: AutoRenewConsent | None = None,
    ) -> CheckoutResult:
        """Start a one-stage (`capture: true`) payment for a plan at this user's price.

        With `reuse_pending`, the user's live pending payment for this plan is handed out again.
        With `auto_renew` (the consent the customer gave after seeing the terms), YooKassa is
        asked to save the method for renewals; such a payment is never a reused one-off.
        """
        plan = self._catalog.plan(plan_code)
        if plan is None or plan.digital:  # digital goods are sold for Stars only
            raise UnknownProduct(f"unknown plan {plan_code!r}")

        async def prepare(session: AsyncSession, user: User, payment_id: str) -> Draft:
            return await plan_draft(
                session,
                user,
                payment_id,
                plan,
                catalog=self._catalog,
                clock=self._clock,
                config=self._config,
                return_url=return_url,
                source=source,
                email=email,
                phone=phone,
                consent=auto_renew,
            )

        async def reuse(session: AsyncSession) -> Payment | None:
            return await reuse_mod.same_plan(
                session, user_id, plan_code, source=source, now=self._clock.now()
            )

        reusable = reuse_pending and auto_renew is None
        return await self.run(user_id, prepare, reuse if reusable else None)

    async def pay_renewal(
        self, user_id: str, renewal_id: int, *, return_url: str, source: str = "bot"
    ) -> CheckoutResult:
        """Pay a declined renewal by hand (the one-tap link): its plan, at its stated price.

        Paid within the grace, the period continues from the expiry it renews, once.
        """

        async def prepare(session: AsyncSession, user: User, payment_id: str) -> Draft:
            return await renewal_draft(
                session,
                user,
                payment_id,
                renewal_id,
                catalog=self._catalog,
                clock=self._clock,
                config=self._config,
                return_url=return_url,
                source=source,
            )

        return await self.run(user_id, prepare)

    async def start_tickets(
        self,
        user_id: str,
        order: ValidOrder,
        *,
        return_url: str,
        source: str = "bot",
        email: str | None = None,
        phone: str | None = None,
        session_id: str | None = None,
        cancel_url: str | None = None,
        description: str | None = None,
        reuse_pending: bool = False,
        message_id: int | None = None,
    ) -> TicketCheckoutResult:
        """Hold the seats and start a two-stage (`capture: false`) payment for an order.

        With `reuse_pending`, the user's live pending payment for exactly these tickets (date,
        slot, quantities, e-mail) is handed out again: no second order, hold or payment.
        `message_id`: the chat message that will show the new payment's pay button.
        """
        purchase = TicketPurchase(
            order=order,
            return_url=return_url,
            source=source,
            email=email,
            phone=phone,
            session_id=session_id,
            cancel_url=cancel_url,
            description=description,
        )
        order_ids: list[str] = []
        # PostgreSQL: the number drawn before tx 1 and the seats held after it, each a statement
        # of its own; SQLite: both inside tx 1 (see payments/tickets/checkout.py).
        now = self._clock.now().astimezone(self._tz)
        apart = hot_rows_apart(self._sessionmaker)
        drawn = await number_order(self._sessionmaker, order, now) if apart else None

        async def prepare(session: AsyncSession, user: User, payment_id: str) -> Draft:
            draft, order_id = await ticket_draft(
                session,
                user,
                payment_id,
                purchase,
                drawn or await number_in(session, now),
                catalog=self._catalog,
                clock=self._clock,
                config=self._config,
                hold=not apart,
            )
            order_ids.append(order_id)
            return draft

        async def claim() -> None:
            await hold_order(self._sessionmaker, order, order_ids[-1])

        reused_orders: list[str] = []

        async def reuse(session: AsyncSession) -> Payment | None:
            found = await reuse_mod.same_tickets(
                session, user_id, order, email=email, source=source, now=self._clock.now()
            )
            if found is not None and found.order_id:
                reused_orders.append(found.order_id)
            return found

        result = await self.run(
            user_id,
            prepare,
            reuse if reuse_pending else None,
            message_id=message_id,
            claim=claim if apart else None,
        )
        return TicketCheckoutResult(result=result, order_id=(order_ids or reused_orders)[-1])

    async def choices_of(self, payment_id: str, user_id: str) -> reuse_mod.Choices | None:
        """Return what a user's earlier payment bought, to offer the same again."""
        async with self._sessionmaker() as session:
            return await reuse_mod.choices_of(session, payment_id, user_id)

    async def retry_payment(self, user_id: str, payment_id: str, *, return_url: str) -> Retried:
        """Pay again after a decline: a new payment for the same order (or the same plan).

        A pending payment the order already has is returned instead of a second one; the
        order's seats are held again if still free (SoldOut otherwise); NotRetryable says why
        nothing else can be done.
        """
        async with self._sessionmaker() as session:
            previous = await retry_target(session, user_id, payment_id)
        if previous.kind == PaymentKind.SUBSCRIPTION and previous.plan_code:
            result = await self.start_subscription(
                user_id, previous.plan_code, return_url=return_url, email=previous.customer_email
            )
            return Retried(result, None)

        async def prepare(session: AsyncSession, user: User, new_id: str) -> Draft:
            return await retry_ticket_draft(
                session,
                user,
                new_id,
                payment_id,
                catalog=self._catalog,
                clock=self._clock,
                config=self._config,
                tz=self._tz,
            )

        try:
            result = await self.run(user_id, prepare)
        except LivePayment as live:
            async with self._sessionmaker() as session:
                payment = await payments_repo.get_payment(session, live.payment_id)
            assert payment is not None  # noqa: S101 - found in the same run, never deleted
            return Retried(result_of(payment), previous.order_id, reused=True)
        return Retried(result, previous.order_id)
