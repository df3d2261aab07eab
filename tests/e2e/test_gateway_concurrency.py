"""A sale's calls to YooKassa do not queue behind each other: YOOKASSA_CONCURRENCY of them are
in flight at once. The composed service, the real SDK and the local YooKassa, which holds its
answers until every call has arrived.

With a fixed pool of 8 and YooKassa answering in 250 ms, a rush's checkouts waited 5-10 s for
their pay links (README, Performance); the default is now 64.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import ShopFactory
from tests.integration.test_gateway import _request
from tests.unit.test_sandbox import eventually


@pytest.mark.parametrize(
    ("overrides", "calls"),
    [({}, 48), ({"YOOKASSA_CONCURRENCY": 72}, 72)],
    ids=["default", "setting"],
)
async def test_calls_to_a_slow_yookassa_are_in_flight_together(
    make_shop: ShopFactory, overrides: dict[str, int], calls: int
) -> None:
    shop = await make_shop(**overrides)
    gateway = shop.service.payments.gateway
    created = await gateway.create_payment(_request())
    path = f"/v3/payments/{created.id}"
    held = shop.yookassa.hold("GET", path, n=calls)

    fetches = [asyncio.create_task(gateway.get_payment(created.id)) for _ in range(calls)]

    def arrived() -> int:
        return sum(1 for r in shop.yookassa.requests if r.method == "GET" and r.path == path)

    try:
        # Every call reaches YooKassa while none has its answer yet: none waits for another's.
        # (Sooner than a call's own timeout, 5 s here, so a queued call fails this, not that.)
        await eventually(lambda: arrived() == calls, seconds=4)
    finally:
        held.release.set()
        async with asyncio.timeout(10):
            answers = await asyncio.gather(*fetches, return_exceptions=True)
    assert [getattr(answer, "id", answer) for answer in answers] == [created.id] * calls
