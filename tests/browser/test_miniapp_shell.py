"""The Mini App's shell in a real browser: signed in from Telegram's init data, in the user's
language, staff entry for staff only, served under a strict Content-Security-Policy."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, STAFF_ID, MiniApp, Shots

pytestmark = pytest.mark.browser

CUSTOMER = 700_101


async def test_a_customer_sees_the_shop_in_their_language_and_no_staff_entry(
    miniapp: MiniApp, shots: Shots
) -> None:
    english = await miniapp.open(CUSTOMER, DESKTOP, language="en")
    tabs = english.locator("nav.tabs .tab")
    await expect(tabs).to_have_text(["Tickets", "Plans", "My tickets"])
    await expect(english.locator("html")).to_have_attribute("lang", "en")
    await expect(english.locator(".sandbox")).to_have_text("Sandbox: no real money is charged")
    await shots.take(english, "customer-en-desktop")
    russian = await miniapp.open(CUSTOMER + 1, PHONE, language="ru")
    await expect(russian.locator("nav.tabs .tab")).to_have_text(
        ["Билеты", "Подписка", "Мои билеты"]
    )
    await expect(russian.locator("html")).to_have_attribute("lang", "ru")
    await shots.take(russian, "customer-ru-phone")
    assert await russian.get_by_text("Проверка билетов").count() == 0
    assert miniapp.outside == []
    assert miniapp.errors == []


async def test_staff_see_the_scan_entry(miniapp: MiniApp) -> None:
    page = await miniapp.open(STAFF_ID, PHONE, language="en")
    await expect(page.locator("nav.tabs .tab")).to_have_text(
        ["Tickets", "Plans", "My tickets", "Scan tickets"]
    )


async def test_the_page_may_run_scripts_only_from_itself_and_telegram(miniapp: MiniApp) -> None:
    async with httpx.AsyncClient(base_url=miniapp.service.base_url) as client:
        page = await client.get("/app/")
        texts = await client.get("/app/i18n/en.ftl")
        unknown = await client.get("/app/i18n/xx.ftl")
        script = await client.get("/app/js/main.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' https://telegram.org;" in policy
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert '<script src="https://telegram.org/js/telegram-web-app.js"></script>' in page.text
    assert texts.headers["content-type"] == "text/plain; charset=utf-8"
    assert "app-nav-shop = Tickets" in texts.text
    assert unknown.status_code == 404
    assert script.headers["content-type"].startswith("text/javascript")


DARK_THEME = {
    "bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#232e3c",
}


async def _colours(page: Page) -> tuple[str, str]:
    """The page's background and its primary button's colour, as the browser paints them."""
    background: str = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    button: str = await page.locator("nav.tabs .tab[aria-current=page]").first.evaluate(
        "node => getComputedStyle(node).backgroundColor"
    )
    return background, button


async def test_the_app_follows_telegrams_theme_and_its_changes(
    miniapp: MiniApp, shots: Shots
) -> None:
    page = await miniapp.open(CUSTOMER + 2, PHONE, theme=DARK_THEME, color_scheme="dark")
    await expect(page.locator("nav.tabs .tab")).to_have_count(3)
    assert await _colours(page) == ("rgb(23, 33, 43)", "rgb(82, 136, 193)")
    await expect(page.locator("html")).to_have_attribute("data-scheme", "dark")
    await shots.take(page, "dark-phone")
    # The user switches Telegram to a light theme while the app is open.
    await page.evaluate(
        """() => {
            window.Telegram.WebApp.themeParams = {bg_color: "#ffffff", button_color: "#2481cc"};
            window.Telegram.WebApp.colorScheme = "light";
            window.__tg.emit("themeChanged");
        }"""
    )
    assert await _colours(page) == ("rgb(255, 255, 255)", "rgb(36, 129, 204)")
    await expect(page.locator("html")).to_have_attribute("data-scheme", "light")
    assert miniapp.errors == []
