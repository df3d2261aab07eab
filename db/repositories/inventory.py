"""Slot inventory: seats held with one conditional UPDATE, correct on SQLite and PostgreSQL.

`hold` is `UPDATE slot_inventory SET held = held + n WHERE … AND held + n <= capacity`. On
SQLite every writer runs under BEGIN IMMEDIATE, so holds are serial. On PostgreSQL the UPDATE
locks the row; a concurrent UPDATE waits for it and then re-checks its WHERE clause against the
committed row (READ COMMITTED), so two buyers of the last seat cannot both succeed. The CHECK
constraint `held <= capacity` is the backstop if anyone ever writes around this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, OrderCounter, SlotInventory
from db.repositories.dialect import insert_for


@dataclass(frozen=True, slots=True)
class SlotSeats:
    """Seats of one slot."""

    slot_time: str
    capacity: int
    held: int

    @property
    def left(self) -> int:
        """Return the seats still free."""
        return max(0, self.capacity - self.held)


async def ensure_slot(
    session: AsyncSession, visit_date: date, slot_time: str, default_capacity: int
) -> None:
    """Create the slot's row with the catalog capacity unless it exists."""
    await session.execute(
        insert_for(session, SlotInventory)
        .values(
            visit_date=visit_date,
            slot_time=slot_time,
            capacity=default_capacity,
            held=0,
            capacity_overridden=False,
        )
        .on_conflict_do_nothing(index_elements=[SlotInventory.visit_date, SlotInventory.slot_time])
    )


async def hold_seats(
    session: AsyncSession,
    visit_date: date,
    slot_time: str,
    seats: int,
    default_capacity: int,
    *,
    ensure: bool = True,
) -> bool:
    """Hold seats if they are free; return whether they were held.

    With `ensure=False` the caller has seen the slot's row already: the INSERT … ON CONFLICT
    that creates a missing row is skipped (on PostgreSQL it waits for whoever holds the row).
    """
    if ensure:
        await ensure_slot(session, visit_date, slot_time, default_capacity)
    result = await session.execute(
        update(SlotInventory)
        .where(
            SlotInventory.visit_date == visit_date,
            SlotInventory.slot_time == slot_time,
            SlotInventory.held + seats <= SlotInventory.capacity,
        )
        .values(held=SlotInventory.held + seats)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def hold_for_order(
    session: AsyncSession, order_id: str, visit_date: date, slot_time: str, seats: int
) -> bool:
    """Hold a pending order's seats and mark them held, in one statement (PostgreSQL); return
    whether they were held (False: the slot is full, or the order is no longer pending).

    The order's row is locked first (`FOR UPDATE`, re-checked against the committed row), so a
    cancel racing with the hold either sees the seats held and gives them back, or makes this
    statement hold nothing: the slot's count and the flag never disagree.
    """
    pending = (
        select(Order.id)
        .where(Order.id == order_id, Order.status == "pending", Order.seats_held.is_(False))
        .with_for_update()
        .cte("pending")
    )
    held = (
        update(SlotInventory)
        .where(
            SlotInventory.visit_date == visit_date,
            SlotInventory.slot_time == slot_time,
            SlotInventory.held + seats <= SlotInventory.capacity,
            exists(select(pending.c.id)),
        )
        .values(held=SlotInventory.held + seats)
        .returning(SlotInventory.id)
        .cte("held")
    )
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, exists(select(held.c.id)))
        .values(seats_held=True)
        .returning(Order.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def release_seats(
    session: AsyncSession, visit_date: date, slot_time: str, seats: int
) -> bool:
    """Give seats back; return whether the slot had them to give."""
    result = await session.execute(
        update(SlotInventory)
        .where(
            SlotInventory.visit_date == visit_date,
            SlotInventory.slot_time == slot_time,
            SlotInventory.held >= seats,
        )
        .values(held=SlotInventory.held - seats)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def seats_on(session: AsyncSession, visit_date: date) -> dict[str, SlotSeats]:
    """Return the stored seats of every slot of a date that has a row."""
    result = await session.execute(
        select(SlotInventory).where(SlotInventory.visit_date == visit_date)
    )
    return {
        row.slot_time: SlotSeats(row.slot_time, row.capacity, row.held) for row in result.scalars()
    }


async def set_capacity(
    session: AsyncSession, visit_date: date, slot_time: str, capacity: int, default_capacity: int
) -> tuple[bool, int]:
    """Set a slot's capacity unless it is below the seats taken; return (done, seats taken)."""
    await ensure_slot(session, visit_date, slot_time, default_capacity)
    result = await session.execute(
        update(SlotInventory)
        .where(
            SlotInventory.visit_date == visit_date,
            SlotInventory.slot_time == slot_time,
            SlotInventory.held <= capacity,
        )
        .values(capacity=capacity, capacity_overridden=True)
        .execution_options(synchronize_session=False)
    )
    held = (
        await session.execute(
            select(SlotInventory.held).where(
                SlotInventory.visit_date == visit_date, SlotInventory.slot_time == slot_time
            )
        )
    ).scalar_one()
    return bool(result.rowcount == 1), int(held)  # type: ignore[attr-defined]


async def next_order_number_unless_full(
    session: AsyncSession, day: datetime, visit_date: date, slot_time: str, seats: int
) -> int | None:
    """Return the next order number of a day, or None (nothing drawn) when the slot's stored
    row has fewer than `seats` left: one statement, the check and the draw together."""
    key = day.strftime("%Y%m%d")
    full = (
        select(SlotInventory.id)
        .where(
            SlotInventory.visit_date == visit_date,
            SlotInventory.slot_time == slot_time,
            SlotInventory.held + seats > SlotInventory.capacity,
        )
        .exists()
    )
    first = select(literal(key, OrderCounter.day.type), literal(1, OrderCounter.last.type))
    return await _draw(
        session, insert_for(session, OrderCounter).from_select(["day", "last"], first.where(~full))
    )


async def next_order_number(session: AsyncSession, day: datetime) -> int:
    """Return the next order number of a day (1, 2, …), atomically, in one statement.

    The day's counter row is locked until the caller's transaction ends: every checkout of
    the day takes it, so the ticket checkout draws it in a transaction of its own: on
    PostgreSQL with AUTOCOMMIT, so that the statement is the whole transaction
    (payments/tickets/checkout.py).
    """
    key = day.strftime("%Y%m%d")
    number = await _draw(session, insert_for(session, OrderCounter).values(day=key, last=1))
    assert number is not None  # noqa: S101 - an unconditional INSERT always returns its row
    return number


async def _draw(session: AsyncSession, first: Any) -> int | None:
    """Run the day's counter INSERT `first`, or on its row `last + 1`; return the number drawn
    (None when `first` inserted nothing)."""
    result = await session.execute(
        first.on_conflict_do_update(
            index_elements=[OrderCounter.day], set_={"last": OrderCounter.last + 1}
        ).returning(OrderCounter.last)
    )
    number = result.scalar_one_or_none()
    return None if number is None else int(number)
