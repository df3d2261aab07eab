"""`/docs` in a real browser with the network cut off: every asset comes from the
service itself, and the operations render."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, Offline

pytestmark = pytest.mark.browser

SEED_PATHS = ("/v1/payments/sessions", "/api/v2/payments/create", "/api/v2/auth/verify")


async def test_swagger_ui_renders_the_operations_offline(offline: Offline, tmp_path: Path) -> None:
    page = await offline.page(DESKTOP)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    await page.goto(f"{offline.base_url}/docs")  # returns once its scripts loaded (or failed)
    assert offline.outside == [], "the page reached for another host"
    # Swagger UI draws one block per operation once its bundle ran and read /openapi.json.
    operations = page.locator(".opblock .opblock-summary-path")
    await expect(operations.first).to_be_visible(timeout=15_000)
    await page.screenshot(path=tmp_path / "docs.png")
    paths = {(await p.get_attribute("data-path")) or "" for p in await operations.all()}
    assert set(SEED_PATHS) <= paths, paths
    assert await page.locator(".opblock-tag", has_text="ZooTicket Mini App /api/v2").count() == 1
    title = await page.locator(".info .title").inner_text()
    assert "zooticket-bot" in title
    assert "burlive" not in (await page.locator("body").inner_text()).lower()
    assert offline.outside == []
    assert failed == []
