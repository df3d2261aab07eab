"""The service as main.py composes it answers 503 on /health while its database refuses writes."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import ShopFactory
from tests.integration.test_health import write_lock_held


async def test_the_composed_service_reports_a_database_it_cannot_write(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=15) as client:
        async with write_lock_held(shop.service.database.engine):
            down = await client.get("/health")
        assert down.status_code == 503, down.text
        assert down.json()["status"] == "unhealthy"
        assert down.json()["database"] == "down"
