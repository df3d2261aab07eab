"""Seat holds under concurrency: one conditional UPDATE never oversells.

The same test runs on PostgreSQL when TEST_DATABASE_URL is set (the integration run of
`make test`): there each UPDATE takes the row lock, a waiting UPDATE re-checks
`held + n <= capacity` against the committed row, so the losers match no row.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.util import await_only

from db.models import Order, Payment, PaymentEvent, SlotInventory, User
from db.repositories.inventory import hold_for_order, hold_seats, release_seats, set_capacity
from handlers.admin import words
from payments.catalog import load_catalog
from payments.checkout.draft import CheckoutConfig
from payments.checkout.errors import SoldOut
from payments.checkout.flow import Checkout
from payments.tickets.rules import TicketRules
from payments.tickets.seats import release_orders
from payments.types import PaymentRequest, PaymentStatus, ProviderPayment
from tests.conftest import MovableClock

VISIT = date(2030, 6, 1)


class Gateway:
    """Answers creates like YooKassa and counts them; checkout uses nothing else."""

    def __init__(self) -> None:
        self.created = 0

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        self.created += 1
        provider_id = f"{self.created:08x}-000f-5000-8000-000000000000"  # before yielding
        await asyncio.sleep(0)
        return ProviderPayment(
            id=provider_id,
            status=PaymentStatus.PENDING,
            paid=False,
            amount=Decimal("1000.00"),
            currency="RUB",
            confirmation_url="https://yoomoney.ru/checkout",
        )


def _checkout(
    sessionmaker: async_sessionmaker[AsyncSession], gateway: Gateway, clock: MovableClock
) -> Checkout:
    return Checkout(
        sessionmaker=sessionmaker,
        gateway=gateway,  # type: ignore[arg-type]
        catalog=load_catalog(),
        clock=clock,
        tz=ZoneInfo("Europe/Moscow"),
        config=CheckoutConfig(False, 15, 10, 5, "burlive.ru", frozenset()),
    )


async def _held(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        row = (await session.execute(select(SlotInventory))).scalar_one()
    return row.held


async def test_twenty_buyers_for_five_seats(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        assert await hold_seats(session, VISIT, "10:00", 95, default_capacity=100)

    async def buy_one() -> bool:
        async with sessionmaker.begin() as session:
            return await hold_seats(session, VISIT, "10:00", 1, default_capacity=100)

    results = await asyncio.gather(*(buy_one() for _ in range(20)))
    assert results.count(True) == 5
    assert await _held(sessionmaker) == 100


async def test_release_gives_seats_back_and_never_below_zero(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        assert await hold_seats(session, VISIT, "12:00", 3, default_capacity=3)
        assert not await hold_seats(session, VISIT, "12:00", 1, default_capacity=3)
        assert await release_seats(session, VISIT, "12:00", 2)
        assert not await release_seats(session, VISIT, "12:00", 5)
        assert await hold_seats(session, VISIT, "12:00", 2, default_capacity=3)


async def test_capacity_cannot_go_below_seats_taken(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await hold_seats(session, VISIT, "14:00", 7, default_capacity=100)
        assert await set_capacity(session, VISIT, "14:00", 6, default_capacity=100) == (False, 7)
        assert await set_capacity(session, VISIT, "14:00", 7, default_capacity=100) == (True, 7)
        assert not await hold_seats(session, VISIT, "14:00", 1, default_capacity=100)


async def test_concurrent_checkouts_never_oversell(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    """20 customers start a one-ticket checkout for the last 5 seats: 5 get a pay button."""
    catalog = load_catalog()
    tz = ZoneInfo("Europe/Moscow")
    async with sessionmaker.begin() as session:
        session.add_all(User(id=str(5000 + i), first_name="u", language="ru") for i in range(20))
        await hold_seats(session, VISIT, "10:00", 95, default_capacity=100)

    gateway = Gateway()
    checkout = _checkout(sessionmaker, gateway, clock)
    rules = TicketRules(catalog, tz)
    clock.set(datetime(2030, 5, 20, 9, 0, tzinfo=UTC))
    order = rules.validate(VISIT, "10:00", {"adult": 1}, clock.now())

    async def attempt(user_id: str) -> bool:
        try:
            await checkout.start_tickets(user_id, order, return_url="https://t.me/x")
        except SoldOut:
            return False
        return True

    results = await asyncio.gather(*(attempt(str(5000 + i)) for i in range(20)))
    assert results.count(True) == 5
    assert gateway.created == 5
    assert await _held(sessionmaker) == 100


@pytest.mark.sqlite_only
async def test_a_ticket_checkout_on_sqlite_writes_in_two_transactions(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    """SQLite's writers take turns, and in the rush each turn cost a checkout about half a
    second: the order number is drawn inside tx 1, so a checkout writes twice (tx 1, then
    YooKassa's id in tx 2), not three times, and numbers its orders without gaps."""
    engine = sessionmaker.kw["bind"]
    writes: list[str] = []

    # Every transaction on the SQLite engine begins with BEGIN IMMEDIATE (db.engine).
    @event.listens_for(engine.sync_engine, "begin")
    def _count(*_args: Any) -> None:
        writes.append("BEGIN IMMEDIATE")

    async with sessionmaker.begin() as session:
        session.add_all(User(id=str(6000 + i), first_name="u", language="ru") for i in range(2))
    checkout = _checkout(sessionmaker, Gateway(), clock)
    clock.set(datetime(2030, 5, 20, 9, 0, tzinfo=UTC))
    order = TicketRules(load_catalog(), ZoneInfo("Europe/Moscow")).validate(
        VISIT, "10:00", {"adult": 1}, clock.now()
    )
    writes.clear()
    first = await checkout.start_tickets("6000", order, return_url="https://t.me/x")
    assert len(writes) == 2  # noqa: PLR2004 - tx 1 and tx 2
    second = await checkout.start_tickets("6001", order, return_url="https://t.me/x")
    assert (first.order_id, second.order_id) == ("ZT-20300520-001", "ZT-20300520-002")


async def _lock_waited(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Return once some transaction of this database waits for a row lock (10 s at most)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    async with sessionmaker() as session:
        for _ in range(1000):
            waiting = (await session.execute(query)).scalar_one()
            # PostgreSQL reads pg_stat_activity once a transaction and keeps that picture: a
            # poll in one transaction saw only the first look (on a loaded host, before the
            # release had started waiting).
            await session.rollback()
            if waiting:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("no transaction waited for a row lock within 10 s")


# Row locks are PostgreSQL's (SQLite's writers take turns): run by the services run, which
# gives every test a PostgreSQL database; the SQLite run deselects it.
@pytest.mark.services
async def test_two_releases_of_the_same_slots_never_deadlock(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Seats go back slot by slot in one order everywhere. Taking the slots in the order the
    orders' rows came back, a release (two sweeps at once, or a sweep beside an admin's
    cancel) could hold one slot's row while waiting for another's, itself held by a
    transaction waiting for the first: PostgreSQL then kills one of them."""
    dialect = sessionmaker.kw["bind"].dialect.name
    assert dialect == "postgresql", "this test needs the services run's PostgreSQL"
    async with sessionmaker.begin() as session:
        session.add(User(id="6100", first_name="u", language="ru"))
        session.add_all(
            SlotInventory(visit_date=VISIT, slot_time=slot, capacity=10, held=2)
            for slot in ("10:00", "12:00")
        )
    async with sessionmaker.begin() as session:
        # 12:00 written first, so the orders' UPDATE hands it back first.
        session.add_all(
            Order(
                id=f"ZT-20300601-{slot[:2]}",
                user_id="6100",
                visit_date=VISIT,
                slot_time=slot,
                seats=1,
                seats_held=True,
                total=Decimal("100.00"),
            )
            for slot in ("12:00", "10:00")
        )

    def give_back(slot: str) -> Any:
        return (
            update(SlotInventory)
            .where(SlotInventory.visit_date == VISIT, SlotInventory.slot_time == slot)
            .values(held=SlotInventory.held - 1)
        )

    async def release() -> None:
        async with sessionmaker.begin() as session:
            await release_orders(session, ["ZT-20300601-12", "ZT-20300601-10"])

    async with sessionmaker() as other:
        await other.execute(give_back("10:00"))
        releasing = asyncio.create_task(release())
        await _lock_waited(sessionmaker)  # the release waits for 10:00
        await other.execute(give_back("12:00"))  # and the other transaction wants 12:00
        await other.commit()
    await asyncio.wait_for(releasing, 10)

    async with sessionmaker() as session:
        rows = await session.execute(select(SlotInventory.slot_time, SlotInventory.held))
        assert dict(rows.all()) == {"10:00": 0, "12:00": 0}


class PausedHold:
    """Stops the first checkout that holds seats, `when` ("before" or "after") its hold runs,
    until `resume` is set; later holds go through."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], when: str) -> None:
        self.reached = asyncio.Event()
        self.resume = asyncio.Event()
        event.listen(sessionmaker.kw["bind"].sync_engine, f"{when}_cursor_execute", self._pause)

    def _pause(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        hold = "UPDATE slot_inventory" in statement and "slot_inventory.held +" in statement
        if hold and not self.reached.is_set():
            self.reached.set()
            await_only(self.resume.wait())


async def _buyers(sessionmaker: async_sessionmaker[AsyncSession], *ids: str) -> None:
    async with sessionmaker.begin() as session:
        session.add_all(User(id=user_id, first_name="u", language="ru") for user_id in ids)
        session.add(SlotInventory(visit_date=VISIT, slot_time="10:00", capacity=10, held=8))


@pytest.mark.services
async def test_a_checkout_that_held_its_seats_does_not_keep_the_slot_locked(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    """Every checkout of a slot updates its row. Held inside tx 1, the row stayed locked until
    this process got round to COMMIT, and in the rush about five checkouts at a time waited
    for it. Now the hold commits by itself: a checkout stopped right after its hold does not
    stop the next customer's checkout of the same slot."""
    assert sessionmaker.kw["bind"].dialect.name == "postgresql", "needs the services run"
    await _buyers(sessionmaker, "6200", "6201")
    gateway = Gateway()
    checkout = _checkout(sessionmaker, gateway, clock)
    clock.set(datetime(2030, 5, 20, 9, 0, tzinfo=UTC))
    order = TicketRules(load_catalog(), ZoneInfo("Europe/Moscow")).validate(
        VISIT, "10:00", {"adult": 1}, clock.now()
    )
    paused = PausedHold(sessionmaker, "after")
    first = asyncio.create_task(checkout.start_tickets("6200", order, return_url="https://t.me/x"))
    try:
        await asyncio.wait_for(paused.reached.wait(), 10)
        second = await asyncio.wait_for(
            checkout.start_tickets("6201", order, return_url="https://t.me/x"), 10
        )
        assert gateway.created == 1, "the second customer's pay button came while the first stood"
    finally:
        paused.resume.set()
    assert second.result.confirmation_url
    await asyncio.wait_for(first, 10)
    assert gateway.created == 2  # noqa: PLR2004
    assert await _held(sessionmaker) == 10  # noqa: PLR2004


@pytest.mark.services
async def test_seats_gone_before_the_hold_cancel_the_new_payment_as_sold_out(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    """The order and payment are written first and the seats held right after. When another
    customer takes the last seats in between, the customer is told they are gone, YooKassa is
    never asked, and the payment and its order end canceled as sold out, holding nothing."""
    assert sessionmaker.kw["bind"].dialect.name == "postgresql", "needs the services run"
    await _buyers(sessionmaker, "6300", "6301")
    gateway = Gateway()
    checkout = _checkout(sessionmaker, gateway, clock)
    clock.set(datetime(2030, 5, 20, 9, 0, tzinfo=UTC))
    rules = TicketRules(load_catalog(), ZoneInfo("Europe/Moscow"))
    paused = PausedHold(sessionmaker, "before")
    late = asyncio.create_task(
        checkout.start_tickets(
            "6300",
            rules.validate(VISIT, "10:00", {"adult": 1}, clock.now()),
            return_url="https://t.me/x",
        )
    )
    try:
        await asyncio.wait_for(paused.reached.wait(), 10)
        await asyncio.wait_for(
            checkout.start_tickets(
                "6301",
                rules.validate(VISIT, "10:00", {"adult": 2}, clock.now()),
                return_url="https://t.me/x",
            ),
            10,
        )
    finally:
        paused.resume.set()
    with pytest.raises(SoldOut) as refused:
        await asyncio.wait_for(late, 10)

    assert refused.value.seats_left == 0
    assert gateway.created == 1
    assert await _held(sessionmaker) == 10  # noqa: PLR2004
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Payment.status, Payment.cancel_reason, Order.status, Order.seats_held)
            .join(Order, Order.id == Payment.order_id)
            .where(Payment.user_id == "6300")
        )
        assert rows.all() == [("canceled", "sold_out", "canceled", False)]
        # The payment's history, as /payment shows it to an admin, says why.
        events = await session.execute(
            select(PaymentEvent.event)
            .join(Payment, Payment.id == PaymentEvent.payment_id)
            .where(Payment.user_id == "6300")
            .order_by(PaymentEvent.id)
        )
        assert [words.event("ru", e) for e in events.scalars()] == [
            "платёж создан",
            "места закончились до брони",
        ]


@pytest.mark.services
async def test_a_hold_racing_a_cancel_of_its_order_holds_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The hold locks the order's row first: an order canceled while its hold waits gets no
    seats, so no seats are counted for an order that will never give them back."""
    assert sessionmaker.kw["bind"].dialect.name == "postgresql", "needs the services run"
    await _buyers(sessionmaker, "6400")
    async with sessionmaker.begin() as session:
        session.add(
            Order(
                id="ZT-20300520-001",
                user_id="6400",
                visit_date=VISIT,
                slot_time="10:00",
                seats=1,
                seats_held=False,
                total=Decimal("100.00"),
            )
        )

    async def hold() -> bool:
        async with sessionmaker.begin() as session:
            return await hold_for_order(session, "ZT-20300520-001", VISIT, "10:00", 1)

    async with sessionmaker() as cancel:
        await cancel.execute(
            update(Order).where(Order.id == "ZT-20300520-001").values(status="canceled")
        )
        holding = asyncio.create_task(hold())
        await _lock_waited(sessionmaker)  # the hold waits for the order's row
        await cancel.commit()
    assert not await asyncio.wait_for(holding, 10)

    assert await _held(sessionmaker) == 8  # noqa: PLR2004
    async with sessionmaker() as session:
        order = await session.get(Order, "ZT-20300520-001")
        assert order is not None
        assert (order.status, order.seats_held) == ("canceled", False)


@pytest.mark.services
async def test_a_hold_that_fails_leaves_no_pending_payment_behind(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    """The connection breaks as the seats are to be held, after tx 1 wrote the payment. Left
    pending, that payment would count in the customer's unpaid seats until it expired, and a
    full order tried again would be refused for minutes: it is canceled at once instead."""
    assert sessionmaker.kw["bind"].dialect.name == "postgresql", "needs the services run"
    catalog = load_catalog()
    most = catalog.tickets.max_tickets_per_order
    async with sessionmaker.begin() as session:
        session.add(User(id="6500", first_name="u", language="ru"))
    checkout = _checkout(sessionmaker, Gateway(), clock)
    clock.set(datetime(2030, 5, 20, 9, 0, tzinfo=UTC))
    order = TicketRules(catalog, ZoneInfo("Europe/Moscow")).validate(
        VISIT, "10:00", {"adult": most}, clock.now()
    )
    broken: list[str] = []

    @event.listens_for(sessionmaker.kw["bind"].sync_engine, "before_cursor_execute")
    def _break(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        hold = "UPDATE slot_inventory" in statement and "slot_inventory.held +" in statement
        if hold and not broken:
            broken.append(statement)
            raise ConnectionResetError("connection reset by peer")

    with pytest.raises(ConnectionResetError):
        await checkout.start_tickets("6500", order, return_url="https://t.me/x")
    again = await checkout.start_tickets("6500", order, return_url="https://t.me/x")

    assert again.result.confirmation_url
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Payment.status, Payment.cancel_reason, Order.status)
            .join(Order, Order.id == Payment.order_id)
            .order_by(Payment.created_at, Order.id)
        )
        assert rows.all() == [
            ("canceled", "interrupted", "canceled"),
            ("pending", None, "pending"),
        ]
    assert await _held(sessionmaker) == most
