"""A real headless Chromium (the distribution's, see scripts/ensure-chromium.sh) driven by
Playwright, against the service composed as main.py composes it, in sandbox mode.

Every page is opened offline: a route lets through only requests to the service itself and
aborts (and records) anything else, so a test can assert that no outside host was tried.

The Mini App's pages (`miniapp`) run the same service with a bot token, the bot talking to the
local fake Bot API of tests/fakes, so the test can sign Telegram init data the way Telegram
does; `telegram_stub.js` is served in place of https://telegram.org/js/telegram-web-app.js.
Screenshots of each screen go to artifacts/browser/<test name>/ (`shots`).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, ViewportSize, async_playwright, expect

from main import Service, build
from payments.api.auth import sign_init_data
from settings import Settings
from tests.fakes.telegram_api import FakeTelegramAPI

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
# How long an `expect` waits for the page to get there (Playwright's default is 5 s). The tests
# say what a customer sees, not how soon: speed goals live in `make bench`. On CI's slower host,
# four workers beside Chromium took a Mini App's first screen past 5 s.
expect.set_options(timeout=15_000)
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
TELEGRAM_STUB = Path(__file__).with_name("telegram_stub.js")
STAFF_ID = 700_500
ADMIN_ID = 700_900
LIGHT_THEME = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f1f1f4",
}


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


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramAPI]:
    """Provide the local fake Bot API (the service's bot talks to it; its token signs initData)."""
    async with FakeTelegramAPI() as fake:
        yield fake


class RunningClock:
    """The real time, shifted on demand (the service's clock in the Mini App's tests).

    It runs, unlike tests.conftest.MovableClock: init data and tokens are checked against it
    while the browser takes its time. Sign in first, then `shift` to the day of a visit.
    """

    def __init__(self) -> None:
        """Start at the real time."""
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """Return the real time plus the shift."""
        return datetime.now(UTC) + self.offset

    def shift_to(self, moment: datetime) -> None:
        """From now on, run from `moment`."""
        self.offset = moment - datetime.now(UTC)


@pytest.fixture
def running_clock() -> RunningClock:
    """Provide the service's running clock."""
    return RunningClock()


@pytest.fixture
async def miniapp_service(
    make_settings: Callable[..., Settings], telegram: FakeTelegramAPI, running_clock: RunningClock
) -> AsyncIterator[Service]:
    """Run the service in sandbox mode WITH a bot (on the fake Bot API), one staff member and
    one admin, so the Mini App can sign in with init data."""
    running = await build(
        make_settings(
            BOT_TOKEN=telegram.token,
            TELEGRAM_API_BASE=telegram.base_url,
            STAFF_IDS=str(STAFF_ID),
            ADMIN_IDS=str(ADMIN_ID),
        ),
        clock=running_clock,
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@dataclass
class MiniApp:
    """Opens the Mini App as a Telegram user would: signed init data, the Telegram stub, and
    no host but the service's (every other request is aborted and recorded in `outside`)."""

    browser: Browser
    service: Service
    bot_token: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def init_data(self, user_id: int, *, language: str = "en", first_name: str = "Anna") -> str:
        """Init data for a user, signed with the bot's token as Telegram signs it."""
        user = {"id": user_id, "first_name": first_name, "language_code": language}
        fields = {
            "query_id": f"AAH{user_id}",
            "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
            "auth_date": str(int(time.time())),
        }
        return sign_init_data(fields, self.bot_token)

    async def open(
        self,
        user_id: int,
        viewport: ViewportSize = PHONE,
        *,
        language: str = "en",
        first_name: str = "Anna",
        path: str = "/app/",
        theme: dict[str, str] | None = None,
        color_scheme: str = "light",
        init_data: str | None = None,
        **context: Any,
    ) -> Page:
        """Open the Mini App in a fresh context as this Telegram user (`init_data` overrides the
        properly signed one: "" is a page opened outside Telegram)."""
        if init_data is None:
            init_data = self.init_data(user_id, language=language, first_name=first_name)
        user = {"id": user_id, "first_name": first_name, "language_code": language}
        config = {
            "initData": init_data,
            "initDataUnsafe": {"user": user, "auth_date": int(time.time())},
            "themeParams": theme if theme is not None else LIGHT_THEME,
            "colorScheme": color_scheme,
        }
        ctx = await self.browser.new_context(viewport=viewport, **context)
        await ctx.add_init_script(f"window.__tgConfig = {json.dumps(config)};")
        own = urlsplit(self.service.base_url).netloc
        stub = TELEGRAM_STUB.read_text(encoding="utf-8")

        async def route(r: Route) -> None:
            url = r.request.url
            if url == TELEGRAM_SCRIPT:
                await r.fulfill(status=200, content_type="text/javascript", body=stub)
            elif urlsplit(url).netloc == own:
                await r.continue_()
            else:
                self.outside.append(url)
                await r.abort("internetdisconnected")

        await ctx.route("**/*", route)
        page = await ctx.new_page()
        # Uncaught errors of the page: a test asserts there were none.
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        await page.goto(self.service.base_url + path)
        return page


@pytest.fixture
def miniapp(browser: Browser, miniapp_service: Service, telegram: FakeTelegramAPI) -> MiniApp:
    """Open the Mini App on the running service as signed-in Telegram users."""
    return MiniApp(browser, miniapp_service, telegram.token)


@dataclass
class Shots:
    """Screenshots of a test, in artifacts/browser/<test name>/ (kept after the run)."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    async def take(self, page: Page, name: str, *, full_page: bool = True) -> Path:
        """Save a screenshot of the page as <name>.png; return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        await page.screenshot(path=path, full_page=full_page)
        self.taken.append(path)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    """Provide a screenshot helper for this test (its folder is emptied first)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder = ARTIFACTS / name
    if folder.exists():
        for old in folder.glob("*.png"):
            old.unlink()
    return Shots(folder)
