"""Start a payment: tx 1 writes the pending row, YooKassa answers with no transaction open, tx 2
stores the confirmation URL. A failure at YooKassa cancels the row, so nothing is left half-done.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CohortPrice, Order, OrderItem, Payment, User
from db.repositories import inventory
from db.repositories import payments as payments_repo
from db.repositories.subscriptions import customer_facts
from payments.catalog import Catalog, Plan
from payments.gateway import GatewayError, GatewayUnavailable
from payments.ports import Clock, PaymentGateway
from payments.pricing import (
    CustomerFacts,
    cohort_of,
    is_test_user,
    mark,
    plan_description,
    plan_price,
)
from payments.receipts import single_line, ticket_lines
from payments.tickets import ValidOrder
from payments.types import (
    Cohort,
    OrderStatus,
    PaymentKind,
    PaymentRequest,
    PaymentStatus,
    PriceQuote,
    ProviderPayment,
)

log = logging.getLogger(__name__)

PAYMENT_ID_DIGITS = 10
# cancel_reason of a checkout cut short before its link reached the customer (shutdown).
INTERRUPTED = "interrupted"


class CheckoutError(Exception):
    """A checkout that cannot go ahead; the message is for logs, callers map the type."""


class TooManyPending(CheckoutError):
    """The user has too many unfinished payments in the window."""

    def __init__(self, retry_after: int) -> None:
        """Keep how many seconds until the oldest unfinished payment leaves the window."""
        super().__init__(f"too many unfinished payments; retry in {retry_after}s")
        self.retry_after = retry_after


class TooManyUnpaidSeats(CheckoutError):
    """The user's unpaid orders already hold (nearly) as many seats as one order may have."""

    def __init__(self, held: int, limit: int) -> None:
        """Keep how many seats are held unpaid and the allowance."""
        super().__init__(f"{held} seats already held unpaid; at most {limit} at once")
        self.held = held
        self.limit = limit


class UnknownProduct(CheckoutError):
    """The plan or ticket type is not in the catalog."""


class ProviderDown(CheckoutError):
    """YooKassa could not create the payment; our row was canceled."""


class UnknownUser(CheckoutError):
    """The buyer is not a known user."""


class SoldOut(CheckoutError):
    """The slot has fewer free seats than the order needs."""

    def __init__(self, seats_left: int) -> None:
        """Keep how many seats are still free."""
        super().__init__(f"sold out; {seats_left} seats left")
        self.seats_left = seats_left


@dataclass(frozen=True, slots=True)
class CheckoutConfig:
    """Checkout settings taken from Settings by the composition root."""

    sandbox: bool
    ttl_minutes: int
    pending_limit: int
    pending_window_minutes: int
    fallback_email_domain: str
    test_user_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """A payment waiting for the customer."""

    payment_id: str
    provider_id: str
    confirmation_url: str
    amount: Decimal
    description: str
    expires_at: datetime
    is_test: bool


@dataclass(frozen=True, slots=True)
class TicketCheckoutResult:
    """A ticket payment waiting for the customer, and its order."""

    result: CheckoutResult
    order_id: str


@dataclass(frozen=True, slots=True)
class Draft:
    """What tx 1 decided: the row is written, the request is ready for YooKassa."""

    payment_id: str
    request: PaymentRequest
    expires_at: datetime
    is_test: bool


def new_payment_id() -> str:
    """Return a fresh payment id: `ZT_` and ten random digits."""
    return f"ZT_{secrets.randbelow(10**PAYMENT_ID_DIGITS):0{PAYMENT_ID_DIGITS}d}"


class Checkout:
    """Start subscription (and ticket) payments."""

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

    # ---- prices -------------------------------------------------------------------------

    async def _cohort(self, session: AsyncSession, user_id: str) -> Cohort:
        active, had, paid = await customer_facts(session, user_id, self._clock.now())
        facts = CustomerFacts(
            is_test=is_test_user(user_id, self._config.test_user_ids),
            has_active_subscription=active,
            had_subscription=had,
            has_paid=paid,
        )
        return cohort_of(facts)

    async def _quote(self, session: AsyncSession, user_id: str, plan: Plan) -> PriceQuote:
        cohort = await self._cohort(session, user_id)
        overrides = await price_overrides(session)
        amount = plan_price(self._catalog, plan, cohort, overrides)
        description = plan_description(
            self._catalog.shop.name,
            plan,
            amount,
            is_test=cohort is Cohort.TEST,
            sandbox=self._config.sandbox,
        )
        return PriceQuote(plan.code, cohort, amount, description)

    async def quote_plans(self, user_id: str) -> list[PriceQuote]:
        """Return every plan with this user's price."""
        async with self._sessionmaker() as session:
            return [await self._quote(session, user_id, plan) for plan in self._catalog.plans]

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
        result = await session.execute(select(User).where(User.id == user_id).with_for_update())
        user = result.scalar_one_or_none()
        if user is None:
            raise UnknownUser(user_id)
        return user

    def receipt_contact(
        self, user: User, email: str | None, phone: str | None
    ) -> tuple[str | None, str | None]:
        """Pick the receipt contact: e-mail, else phone, else `<user_id>@<fallback domain>`."""
        email = email or user.email
        phone = phone or user.phone
        if email:
            return email, None
        if phone:
            return None, phone
        return f"{user.id}@{self._config.fallback_email_domain}", None

    async def run(
        self, user_id: str, prepare: Callable[[AsyncSession, User, str], Awaitable[Draft]]
    ) -> CheckoutResult:
        """Run tx 1 (`prepare` writes the pending row), call YooKassa, then run tx 2."""
        for attempt in range(3):
            payment_id = new_payment_id()
            try:
                async with self._sessionmaker.begin() as session:
                    user = await self._lock_user(session, user_id)
                    await self._check_pending_limit(session, user_id)
                    draft = await prepare(session, user, payment_id)
                break
            except IntegrityError:
                # Ten random digits collided with an existing id; draw again.
                if attempt == 2:  # noqa: PLR2004
                    raise
        try:
            remote = await self._create_remote(payment_id, draft)
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

    async def _create_remote(self, payment_id: str, draft: Draft) -> ProviderPayment:
        """Ask YooKassa for the payment, then run tx 2 (store its id and link)."""
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
        async with self._sessionmaker.begin() as session:
            await payments_repo.set_fields(
                session,
                payment_id,
                provider_id=remote.id,
                confirmation_url=remote.confirmation_url,
                updated_at=now,
            )
            payments_repo.add_event(
                session,
                payment_id=payment_id,
                provider_id=remote.id,
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
            moved = await payments_repo.transition(
                session,
                payment_id,
                to=PaymentStatus.CANCELED,
                from_statuses=[PaymentStatus.PENDING],
                values={"cancel_reason": reason, "updated_at": now},
            )
            if moved:
                await self.on_abandoned(session, payment_id)
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

    async def on_abandoned(self, session: AsyncSession, payment_id: str) -> None:
        """Give back the seats of a ticket payment that will not be paid."""
        payment = await payments_repo.get_payment(session, payment_id)
        if payment is not None:
            await release_order_seats(session, payment)

    # ---- subscriptions ------------------------------------------------------------------

    async def start_subscription(
        self,
        user_id: str,
        plan_code: str,
        *,
        return_url: str,
        source: str = "bot",
        email: str | None = None,
        phone: str | None = None,
    ) -> CheckoutResult:
        """Start a one-stage (`capture: true`) payment for a plan at this user's price."""
        plan = self._catalog.plan(plan_code)
        if plan is None:
            raise UnknownProduct(f"unknown plan {plan_code!r}")

        async def prepare(session: AsyncSession, user: User, payment_id: str) -> Draft:
            quote = await self._quote(session, user.id, plan)
            now = self._clock.now()
            expires_at = now + timedelta(minutes=self._config.ttl_minutes)
            receipt_email, receipt_phone = self.receipt_contact(user, email, phone)
            is_test = quote.cohort is Cohort.TEST
            add_pending_payment(
                session,
                Payment(
                    id=payment_id,
                    kind=PaymentKind.SUBSCRIPTION,
                    user_id=user.id,
                    plan_code=plan.code,
                    cohort=quote.cohort.value,
                    amount=quote.amount,
                    is_test=is_test,
                    description=quote.description,
                    return_url=return_url,
                    customer_email=email or user.email,
                    customer_phone=phone or user.phone,
                    source=source,
                    expires_at=expires_at,
                ),
                now=now,
                detail={"plan": plan.code, "cohort": quote.cohort.value},
            )
            await session.flush()
            request = PaymentRequest(
                idempotence_key=payment_id,
                amount=quote.amount,
                description=quote.description,
                return_url=return_url,
                capture=True,
                metadata={
                    "payment_id": payment_id,
                    "userId": user.id,
                    "product": plan.code,
                    "kind": PaymentKind.SUBSCRIPTION.value,
                },
                receipt_lines=[
                    single_line(
                        self._catalog, PaymentKind.SUBSCRIPTION, quote.description, quote.amount
                    )
                ],
                receipt_email=receipt_email,
                receipt_phone=receipt_phone,
            )
            return Draft(payment_id, request, expires_at, is_test)

        return await self.run(user_id, prepare)

    # ---- tickets ------------------------------------------------------------------------

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
    ) -> TicketCheckoutResult:
        """Hold the seats and start a two-stage (`capture: false`) payment for an order."""
        tickets = self._catalog.tickets
        shop = self._catalog.shop
        order_ids: list[str] = []

        async def prepare(session: AsyncSession, user: User, payment_id: str) -> Draft:
            now = self._clock.now()
            is_test = is_test_user(user.id, self._config.test_user_ids)
            # No hoarding: one customer's unpaid seats, across all their pending orders, stay
            # within one order's maximum. `run` locked the user row in this transaction, so two
            # checkouts of one user cannot both pass this sum.
            unpaid = await payments_repo.unpaid_seats(session, user.id)
            if unpaid + order.seats > tickets.max_tickets_per_order:
                raise TooManyUnpaidSeats(unpaid, tickets.max_tickets_per_order)
            held = await inventory.hold_seats(
                session, order.visit_date, order.slot_time, order.seats, tickets.capacity_per_slot
            )
            if not held:
                seats = await inventory.seats_on(session, order.visit_date)
                slot = seats.get(order.slot_time)
                raise SoldOut(slot.left if slot else 0)
            number = await inventory.next_order_number(session, now.astimezone(self._tz))
            order_id = f"ZT-{now.astimezone(self._tz):%Y%m%d}-{number:03d}"
            order_ids.append(order_id)
            amount = shop.test_price if is_test else order.total
            base = description or f"Билеты в зоопарк на {order.visit_date:%d.%m.%Y}"
            text = mark(base, is_test=is_test, sandbox=self._config.sandbox)
            expires_at = now + timedelta(minutes=self._config.ttl_minutes)
            receipt_email, receipt_phone = self.receipt_contact(user, email, phone)
            session.add(
                Order(
                    id=order_id,
                    user_id=user.id,
                    visit_date=order.visit_date,
                    slot_time=order.slot_time,
                    seats=order.seats,
                    seats_held=True,
                    total=amount,
                    email=email,
                    phone=phone,
                    status=OrderStatus.PENDING,
                    created_at=now,
                    items=[
                        OrderItem(
                            ticket_type=line.ticket_type,
                            quantity=line.quantity,
                            unit_price=line.unit_price,
                            visit_date=order.visit_date,
                            visit_time=order.slot_time,
                        )
                        for line in order.lines
                    ],
                )
            )
            await session.flush()
            add_pending_payment(
                session,
                Payment(
                    id=payment_id,
                    kind=PaymentKind.TICKETS,
                    user_id=user.id,
                    order_id=order_id,
                    amount=amount,
                    is_test=is_test,
                    description=text,
                    return_url=return_url,
                    cancel_url=cancel_url,
                    session_id=session_id,
                    customer_email=email,
                    customer_phone=phone,
                    source=source,
                    expires_at=expires_at,
                ),
                now=now,
                detail={"order_id": order_id, "seats": order.seats},
            )
            await session.flush()
            if is_test:
                lines = [single_line(self._catalog, PaymentKind.TICKETS, text, amount)]
            else:
                lines = ticket_lines(
                    self._catalog,
                    ((line.ticket_type, line.quantity, line.unit_price) for line in order.lines),
                    order.visit_date,
                    order.slot_time,
                )
            request = PaymentRequest(
                idempotence_key=payment_id,
                amount=amount,
                description=text,
                return_url=return_url,
                capture=False,
                metadata={
                    "payment_id": payment_id,
                    "userId": user.id,
                    "order_id": order_id,
                    "kind": PaymentKind.TICKETS.value,
                },
                receipt_lines=lines,
                receipt_email=receipt_email,
                receipt_phone=receipt_phone,
            )
            return Draft(payment_id, request, expires_at, is_test)

        result = await self.run(user_id, prepare)
        return TicketCheckoutResult(result=result, order_id=order_ids[-1])

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
            moved = await payments_repo.transition(
                session,
                payment_id,
                to=PaymentStatus.CANCELED,
                from_statuses=[PaymentStatus.PENDING],
                values={"cancel_reason": "user", "updated_at": now},
            )
            if moved:
                await self.on_abandoned(session, payment_id)
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


def add_pending_payment(
    session: AsyncSession, payment: Payment, *, now: datetime, detail: dict[str, object]
) -> None:
    """Add a new pending payment (our id is its idempotence key) and its "created" event."""
    payment.idempotence_key = payment.id
    payment.status = PaymentStatus.PENDING
    payment.refunded_amount = Decimal("0.00")
    payment.extra = {"qr_codes_issued": False, "tickets_activated": False}
    payment.created_at = payment.updated_at = now
    session.add(payment)
    payments_repo.add_event(
        session,
        payment_id=payment.id,
        provider_id=None,
        source=payment.source,
        event="created",
        status_after=PaymentStatus.PENDING,
        detail=detail,
        at=now,
    )


async def release_order_seats(session: AsyncSession, payment: Payment) -> None:
    """Give back a canceled order's seats, once: the `seats_held` flag flips atomically."""
    if payment.order_id is not None:
        await release_orders(session, [payment.order_id])


async def release_orders(session: AsyncSession, order_ids: Sequence[str]) -> None:
    """Cancel orders and give back their seats, one UPDATE per slot; each order only once."""
    result = await session.execute(
        update(Order)
        .where(Order.id.in_(list(order_ids)), Order.seats_held.is_(True))
        .values(seats_held=False, status=OrderStatus.CANCELED)
        .returning(Order.visit_date, Order.slot_time, Order.seats)
        .execution_options(synchronize_session=False)
    )
    seats: Counter[tuple[date, str]] = Counter()
    for row in result.all():
        seats[(row.visit_date, row.slot_time)] += row.seats
    for (visit_date, slot_time), count in seats.items():
        await inventory.release_seats(session, visit_date, slot_time, count)


async def price_overrides(session: AsyncSession) -> dict[tuple[str, str], Decimal]:
    """Return the admins' price overrides by (cohort, plan)."""
    result = await session.execute(select(CohortPrice))
    return {(row.cohort, row.plan_code): row.amount for row in result.scalars()}
