"""Writes through db.writes do what the session would have done (compiled plans).

A payment's transaction writes through `write` and checks through `read`: they run compiled
plans on the transaction's own driver connection (pysqlite's; on PostgreSQL asyncpg's). A plan
that wrote outside the transaction, lost a default, stored a datetime or JSON differently,
miscounted a conditional UPDATE or raised the driver's errors instead of SQLAlchemy's would
break the exactly-once rules. The services run checks the same on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Payment, PaymentEvent, User
from db.writes import read, write, write_alone
from tests.integration.test_reader_plans import NOW, _payment

EVENTS = cast(Table, PaymentEvent.__table__)
PAYMENTS = cast(Table, Payment.__table__)
ADD_EVENT = insert(EVENTS)
MOVE = (
    update(PAYMENTS)
    .where(PAYMENTS.c.id == bindparam("payment_id"), PAYMENTS.c.status == "pending")
    .values(status=bindparam("to"), updated_at=bindparam("at", type_=PAYMENTS.c.updated_at.type))
)
EVENTS_OF = select(PaymentEvent.event, PaymentEvent.detail, PaymentEvent.created_at).where(
    PaymentEvent.payment_id == bindparam("payment_id")
)


class Rollback(Exception):
    """Raised inside a transaction to roll it back."""


@pytest.fixture
async def payment(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    async with sessionmaker.begin() as session:
        session.add(User(id="77", first_name="U", language="ru"))
        await session.flush()
        # A plan payment of user 77, as the reader's tests make one.
        session.add(_payment("p1", kind="subscription", plan_code="monthly", updated_at=NOW))
    return "p1"


def _event(payment_id: str, event: str, **extra: Any) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "provider_id": "y1",
        "source": "test",
        "event": event,
        "status_before": "pending",
        "status_after": "succeeded",
        "detail": {"note": "ü", "n": 1},
        "created_at": NOW,
    } | extra


async def test_writes_and_reads_belong_to_the_session_transaction(
    sessionmaker: async_sessionmaker[AsyncSession], payment: str
) -> None:
    seen: list[Any] = []

    async def write_then_fail() -> None:
        async with sessionmaker.begin() as session:
            moved = await write(
                session, MOVE, {"payment_id": payment, "to": "succeeded", "at": NOW}
            )
            await write(session, ADD_EVENT, _event(payment, "succeeded"))
            seen.append(moved.rowcount)
            seen.extend(
                [row.event for row in await read(session, EVENTS_OF, {"payment_id": payment})]
            )
            raise Rollback

    with pytest.raises(Rollback):
        await write_then_fail()
    # The transaction saw its own writes...
    assert seen == [1, "succeeded"]
    # ...and they went with it when it rolled back.
    async with sessionmaker() as session:
        assert (await session.get(Payment, payment)).status == "pending"  # type: ignore[union-attr]
        assert (await session.execute(select(PaymentEvent))).all() == []


async def test_a_conditional_update_moves_a_row_once(
    sessionmaker: async_sessionmaker[AsyncSession], payment: str
) -> None:
    counts = []
    for _ in range(2):
        async with sessionmaker.begin() as session:
            moved = await write(
                session, MOVE, {"payment_id": payment, "to": "succeeded", "at": NOW}
            )
            counts.append(moved.rowcount)
    assert counts == [1, 0]


async def test_values_come_back_as_the_orm_reads_them(
    sessionmaker: async_sessionmaker[AsyncSession], payment: str
) -> None:
    async with sessionmaker.begin() as session:
        await write(session, ADD_EVENT, _event(payment, "succeeded"))
    async with sessionmaker() as session:
        stored = (await session.execute(select(PaymentEvent))).scalar_one()
    assert (stored.event, stored.detail, stored.created_at) == (
        "succeeded",
        {"note": "ü", "n": 1},
        NOW,
    )


async def test_a_default_computed_per_row_is_still_filled(
    sessionmaker: async_sessionmaker[AsyncSession], payment: str
) -> None:
    """payment_events.created_at defaults to the moment of the INSERT (a function, not a
    constant); payments.updated_at moves on every UPDATE that leaves it out."""
    event = _event(payment, "no-time")
    del event["created_at"], event["detail"]
    async with sessionmaker.begin() as session:
        await write(session, ADD_EVENT, event)
        await write(
            session,
            update(PAYMENTS)
            .where(PAYMENTS.c.id == bindparam("payment_id"))
            .values(status="canceled"),
            {"payment_id": payment},
        )
    async with sessionmaker() as session:
        stored = (await session.execute(select(PaymentEvent))).scalar_one()
        moved = await session.get(Payment, payment)
    assert stored.created_at > NOW - timedelta(days=3650)
    assert stored.detail == {}
    assert moved is not None
    assert moved.updated_at > NOW - timedelta(days=3650)
    assert moved.updated_at != NOW


async def test_an_orm_update_keeps_the_session_objects_in_step(
    sessionmaker: async_sessionmaker[AsyncSession], payment: str
) -> None:
    """An UPDATE of the mapped class (not its table) refreshes the objects the session holds."""
    async with sessionmaker.begin() as session:
        held = await session.get(User, "77")
        assert held is not None
        await write(session, update(User).where(User.id == "77").values(first_name="V"), {})
        assert held.first_name == "V"


async def test_a_duplicate_raises_sqlalchemys_integrity_error(
    sessionmaker: async_sessionmaker[AsyncSession], payment: str
) -> None:
    """Callers catch SQLAlchemy's IntegrityError (a period row's unique payment, say)."""
    async with sessionmaker.begin() as session:
        await write(session, ADD_EVENT, _event(payment, "first") | {"id": 1})
    with pytest.raises(IntegrityError):
        async with sessionmaker.begin() as session:
            await write(session, ADD_EVENT, _event(payment, "again") | {"id": 1})
    async with sessionmaker() as session:
        events = (await session.execute(select(PaymentEvent.event))).scalars().all()
    assert events == ["first"]


async def test_a_write_alone_is_committed_counted_and_refused_whole(
    sessionmaker: async_sessionmaker[AsyncSession], payment: str
) -> None:
    """`write_alone` (a statement that is its own transaction: on PostgreSQL a plan on an
    AUTOCOMMIT connection) moves a row once, and what it did is there for the next session; a
    duplicate raises SQLAlchemy's IntegrityError and stores nothing."""
    moves = [
        (
            await write_alone(
                sessionmaker, MOVE, {"payment_id": payment, "to": "canceled", "at": NOW}
            )
        )
        for _ in range(2)
    ]
    added = await write_alone(sessionmaker, ADD_EVENT, _event(payment, "first") | {"id": 7})
    with pytest.raises(IntegrityError):
        await write_alone(sessionmaker, ADD_EVENT, _event(payment, "again") | {"id": 7})

    async with sessionmaker() as session:
        status = await session.scalar(select(Payment.status).where(Payment.id == payment))
        events = (await session.execute(select(PaymentEvent.event))).scalars().all()
    assert [m.rowcount for m in moves] == [1, 0]
    assert added.rowcount == 1
    assert status == "canceled"
    assert events == ["first"]
