"""One order per journey in the use-case itself: two concurrent checkouts of one user with the
same choices make one order, one hold and one YooKassa payment; the API's calls still make one
payment each.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from db.models import Order, Payment, SlotInventory
from payments.catalog import load_catalog
from payments.tickets.rules import TicketRules, ValidOrder
from tests.integration.test_jobs import SHOP_TZ, World, add_user, world, yookassa

__all__ = ["world", "yookassa"]  # the fixtures, shared with test_jobs


def _order(world: World, adults: int = 2, slot: str = "10:00") -> ValidOrder:
    visit = (world.clock.now() + timedelta(days=1)).astimezone(SHOP_TZ).date()
    return TicketRules(load_catalog(), SHOP_TZ).validate(
        visit, slot, {"adult": adults}, world.clock.now()
    )


async def _count(world: World, model: type[Order] | type[Payment]) -> int:
    async with world.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _held(world: World) -> int:
    async with world.sessionmaker() as session:
        return int(
            (
                await session.execute(select(func.coalesce(func.sum(SlotInventory.held), 0)))
            ).scalar_one()
        )


async def test_two_concurrent_checkouts_with_the_same_choices_make_one_payment(
    world: World,
) -> None:
    await add_user(world, "3301")
    order = _order(world)
    # The first checkout's call to YooKassa is held, so the second finds its row without a link
    # (two instances, or two taps that got past the bot's per-user isolation).
    held = world.fake.hold("POST", "/v3/payments")

    async def start() -> str:
        started = await world.checkout.start_tickets(
            "3301", order, return_url="https://t.me/x", reuse_pending=True
        )
        return started.result.confirmation_url

    first = asyncio.create_task(start())
    await held.arrived.wait()
    second = asyncio.create_task(start())
    # Give the second a moment to find the row without a link and start waiting for it. If it
    # had not got there yet it would find the link instead: either way one payment, checked below.
    await asyncio.sleep(0.2)
    held.release.set()
    links = await asyncio.gather(first, second)
    assert links[0] == links[1] != ""
    assert world.fake.create_count == 1
    assert await _count(world, Order) == 1
    assert await _count(world, Payment) == 1
    assert await _held(world) == 2


async def test_other_choices_and_api_calls_make_their_own_payments(world: World) -> None:
    await add_user(world, "3302")
    one = await world.checkout.start_tickets(
        "3302", _order(world), return_url="https://t.me/x", reuse_pending=True
    )
    other = await world.checkout.start_tickets(
        "3302", _order(world, adults=1), return_url="https://t.me/x", reuse_pending=True
    )
    assert other.order_id != one.order_id
    # Without reuse_pending (the REST API), the same choices are a new payment each time.
    again = await world.checkout.start_tickets("3302", _order(world), return_url="https://t.me/x")
    assert again.order_id not in (one.order_id, other.order_id)
    same = await world.checkout.start_tickets(
        "3302", _order(world), return_url="https://t.me/x", reuse_pending=True
    )
    assert same.result.reused
    assert same.result.payment_id in (one.result.payment_id, again.result.payment_id)
    assert world.fake.create_count == 3


async def test_a_plan_pressed_twice_reuses_its_payment_until_it_expires(world: World) -> None:
    await add_user(world, "3303")
    first = await world.checkout.start_subscription(
        "3303", "monthly", return_url="https://t.me/x", reuse_pending=True
    )
    second = await world.checkout.start_subscription(
        "3303", "monthly", return_url="https://t.me/x", reuse_pending=True
    )
    assert (second.payment_id, second.confirmation_url, second.reused) == (
        first.payment_id,
        first.confirmation_url,
        True,
    )
    assert world.fake.create_count == 1
    world.clock.advance(minutes=60)  # past the hold: not handed out any more
    third = await world.checkout.start_subscription(
        "3303", "monthly", return_url="https://t.me/x", reuse_pending=True
    )
    assert third.payment_id != first.payment_id and not third.reused
    assert world.fake.create_count == 2
