"""YooKassa's notifications take turns (payments/loop_turns.py): WEBHOOK_CONCURRENCY of them are
applied at a time, the others wait (and /metrics says so), and one waiting for YooKassa's own
answer lets the next one through. The composed service, the real SDK and the local YooKassa.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from db.models import Payment
from tests.e2e.conftest import Shop, ShopFactory
from tests.e2e.test_metrics import sample, scraped_until
from tests.e2e.test_subscriptions import _stored
from tests.e2e.test_webhook_repeats import WEBHOOK, _fetches, _pending_plan
from tests.unit.test_sandbox import eventually


async def _two_paid(shop: Shop) -> tuple[str, str]:
    """Two customers' plan payments, paid at YooKassa with their notifications not sent yet."""
    _, first = await _pending_plan(shop, 6601)
    _, second = await _pending_plan(shop, 6602)
    shop.yookassa.lose_notifications(2)
    await shop.yookassa.pay(first)
    await shop.yookassa.pay(second)
    return first, second


def _notify(shop: Shop, provider_id: str) -> asyncio.Task[int]:
    url = f"{shop.service.base_url}{WEBHOOK}"
    return asyncio.create_task(
        shop.yookassa.send_notification("payment.succeeded", provider_id, url=url)
    )


async def test_a_notification_waiting_for_yookassa_lets_the_next_one_be_applied(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()  # WEBHOOK_CONCURRENCY: 1
    first, second = await _two_paid(shop)
    late = shop.yookassa.hold("GET", f"/v3/payments/{first}")
    held = _notify(shop, first)
    async with asyncio.timeout(10):
        await late.arrived.wait()

    # The first one's turn is free while YooKassa's answer about it is on its way.
    async with asyncio.timeout(10):
        assert await _notify(shop, second) == 200
    assert (await _stored(shop, second)).status == "succeeded"
    assert (await _stored(shop, first)).status == "pending"

    late.release.set()
    assert await held == 200
    assert (await _stored(shop, first)).status == "succeeded"


async def test_notifications_past_the_limit_wait_their_turn_and_metrics_show_them(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(METRICS_PORT=0)
    first, second = await _two_paid(shop)
    stuck = await _stored(shop, first)
    # Another writer holds the first payment's row (on SQLite the database's write lock): the
    # first notification's transaction waits for it, inside its turn.
    async with shop.service.sessionmaker.begin() as session:
        await session.execute(
            update(Payment).where(Payment.id == stuck.id).values(description=stuck.description)
        )
        waiting = _notify(shop, first)
        turns = shop.service.payments.webhook.turns
        # Fetched, and back in its turn: at the locked row.
        await eventually(lambda: _fetches(shop, first) > 0 and turns.busy == 1)
        behind = _notify(shop, second)

        await scraped_until(shop, lambda t: sample(t, "zooticket_webhook_waiting") == 1)
        assert not behind.done()
    # The row is free: the first one is applied, then the second takes its turn.
    async with asyncio.timeout(20):
        assert (await waiting, await behind) == (200, 200)
    assert (await _stored(shop, first)).status == "succeeded"
    assert (await _stored(shop, second)).status == "succeeded"
    await scraped_until(shop, lambda t: sample(t, "zooticket_webhook_waiting") == 0)


async def test_a_notification_waits_while_customers_crowd_the_bot_and_is_applied_after(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(METRICS_PORT=0)  # WEBHOOK_YIELD_SECONDS: 10
    _, paid = await _pending_plan(shop, 6611)
    shop.yookassa.lose_notifications(1)
    await shop.yookassa.pay(paid)
    # Four customers at once, each answer held at a slow Telegram: more than a crowd's three.
    customers = [6621, 6622, 6623, 6624]
    slow = shop.telegram.hold("sendMessage", customers)
    for customer in customers:
        await shop.telegram.user(customer).send("/start")
    await eventually(lambda: slow.held == len(customers))

    waiting = _notify(shop, paid)
    text = await scraped_until(shop, lambda t: sample(t, "zooticket_webhook_waiting") == 1)
    assert sample(text, "zooticket_customers_in_flight") == len(customers)
    assert not waiting.done()
    assert (await _stored(shop, paid)).status == "pending"

    slow.release.set()  # the customers are answered: the notification's turn
    async with asyncio.timeout(5):  # well before its 10 s of patience
        assert await waiting == 200
    assert (await _stored(shop, paid)).status == "succeeded"
    for customer in customers:
        await shop.telegram.user(customer).wait_reply(timeout=5)
    await scraped_until(shop, lambda t: sample(t, "zooticket_customers_in_flight") == 0)
