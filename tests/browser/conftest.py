"""A real headless Chromium (the distribution's, see scripts/ensure-chromium.sh) driven by
Playwright, against the service composed as main.py composes it, in sandbox mode.

Every page is opened offline: a route lets through only requests to the service itself and
aborts (and records) anything else, so a test can assert that no outside host was tried.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, ViewportSize, async_playwright

from main import Service, build
from settings import Settings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)


@pytest.fixture
def chromium_path() -> str:
    """Return Chromium's path; fail (not skip) when it is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """Launch Chromium headless."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def service(make_settings: Callable[..., Settings]) -> AsyncIterator[Service]:
    """Run the service in sandbox mode (no YooKassa keys, no bot) on a free port."""
    running = await build(make_settings())
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@dataclass
class Offline:
    """Opens pages that may reach the service and nothing else."""

    browser: Browser
    base_url: str
    outside: list[str] = field(default_factory=list)

    async def page(self, viewport: ViewportSize, **context: Any) -> Page:
        """Open a page of the given size in a fresh context, cut off from every other host."""
        own = urlsplit(self.base_url).netloc
        ctx = await self.browser.new_context(viewport=viewport, **context)

        async def only_own_host(route: Route) -> None:
            if urlsplit(route.request.url).netloc == own:
                await route.continue_()
            else:
                self.outside.append(route.request.url)
                await route.abort("internetdisconnected")

        await ctx.route("**/*", only_own_host)
        return await ctx.new_page()


@pytest.fixture
def offline(browser: Browser, service: Service) -> Offline:
    """Open offline pages on the running service."""
    return Offline(browser, service.base_url)
