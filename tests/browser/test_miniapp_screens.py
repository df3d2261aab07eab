"""The Mini App's other ways through: BackButton, a declined payment and trying again, an
unpaid order paid or cancelled from "My tickets", a plan at this customer's price, and what a
page opened outside Telegram or with bad init data says."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from db.models import User
from main import Service
from tests.browser.conftest import DESKTOP, PHONE, MiniApp, Shots

pytestmark = pytest.mark.browser

CUSTOMER = 700_301
SPACES = re.compile(r"\s+")


def plain(text: str) -> str:
    """Collapse every kind of space to one ASCII space, as a reader sees it."""
    return SPACES.sub(" ", text).strip()


async def add_customer(service: Service, language: str) -> None:
    async with service.sessionmaker.begin() as session:
        session.add(
            User(id=str(CUSTOMER), first_name="Anna", language=language, email="anna@example.com")
        )


async def pick_first_day_and_slot(page: Page) -> str:
    """Pick the second open day (so no slot has started) and its first open slot."""
    day = page.locator(".day.open").nth(1)
    date = await day.get_attribute("data-date")
    assert date
    await day.click()
    await page.locator(".slot:not([disabled])").first.click()
    return date


async def pay_and_open_checkout(page: Page) -> Page:
    """Press the MainButton; open the page the app passed to openLink in a second tab."""
    opened_before = await page.evaluate("() => window.__tg.opened.length")
    await page.locator("#tg-main-button").click()
    await page.wait_for_function(f"() => window.__tg.opened.length > {opened_before}")
    url = await page.evaluate("() => window.__tg.opened[window.__tg.opened.length - 1].url")
    checkout = await page.context.new_page()
    await checkout.goto(url)
    return checkout


async def test_back_decline_try_again_and_an_unpaid_order_cancelled(
    miniapp: MiniApp, shots: Shots
) -> None:
    await add_customer(miniapp.service, "en")
    page = await miniapp.open(CUSTOMER, PHONE, language="en")
    back = page.locator("#tg-back-button")
    main_button = page.locator("#tg-main-button")
    await expect(page.locator(".day.open").first).to_be_visible()
    await expect(back).to_be_hidden()
    date = await pick_first_day_and_slot(page)
    await expect(page.locator(".step-tickets")).to_be_visible()
    await expect(main_button).to_be_hidden()  # nothing chosen yet, nothing to pay

    # BackButton: back to the calendar, the day still picked; then forward again.
    await back.click()
    await expect(page.locator(f'.day[data-date="{date}"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(back).to_be_hidden()
    await page.locator(".slot:not([disabled])").first.click()
    await page.locator('.line[data-type="adult"] .plus').click()
    await expect(main_button).to_have_text(re.compile(r"^Pay 1,000\s₽$"))

    # A declined payment says so and offers to try again, with the same tickets.
    checkout = await pay_and_open_checkout(page)
    await checkout.locator("button.decline").click()
    await expect(page.locator(".result.canceled h1")).to_have_text(
        "The payment did not go through", timeout=15_000
    )
    assert "No money was taken." in plain(await page.locator(".result").inner_text())
    await shots.take(page, "declined")
    await expect(main_button).to_have_text("Try again")
    await main_button.click()
    await expect(page.locator('.line[data-type="adult"] output')).to_have_text("1")

    # Pay, but leave without paying: "My tickets" lists the order to pay or cancel.
    await pay_and_open_checkout(page)
    await expect(page.locator(".waiting")).to_be_visible()
    await page.locator('.tab[data-screen="tickets"]').click()
    order = page.locator(".order")
    await expect(order).to_have_count(1)
    await expect(order.locator("button.pay")).to_be_visible()
    await shots.take(page, "unpaid-order")
    await order.locator("button.cancel").click()
    await expect(page.locator(".notice")).to_have_text(
        "The order is canceled and its seats are free again."
    )
    await expect(page.locator(".order")).to_have_count(0)
    assert await page.evaluate("() => window.__tg.confirms") == [
        "Cancel this order and free its seats?"
    ]
    # Back from "My tickets" returns to the shop.
    await back.click()
    await expect(page.locator(".step-calendar")).to_be_visible()
    assert miniapp.outside == []
    assert miniapp.errors == []


async def test_a_plan_at_this_customers_price_is_bought_in_russian(
    miniapp: MiniApp, shots: Shots
) -> None:
    await add_customer(miniapp.service, "ru")
    page = await miniapp.open(CUSTOMER, DESKTOP, language="ru")
    await page.locator('.tab[data-screen="plans"]').click()
    monthly = page.locator('.plan[data-plan="monthly"]')
    await expect(monthly.locator(".label")).not_to_be_empty()
    await expect(page.locator(".subscription.none")).to_have_text("Подписки пока нет.")
    price = plain(await monthly.locator(".price").inner_text())
    await shots.take(page, "plans")
    await monthly.click()
    main_button = page.locator("#tg-main-button")
    await expect(main_button).to_have_text(re.compile(r"^Оплатить \d"))
    assert plain(await main_button.inner_text()).removeprefix("Оплатить ") in price
    checkout = await pay_and_open_checkout(page)
    await checkout.locator("button.pay").click()
    await expect(page.locator(".result.paid p")).to_have_text("Подписка активна.", timeout=15_000)
    await shots.take(page, "plan-paid")
    await page.locator(".actions button").click()
    await expect(page.locator(".subscription.active")).to_contain_text("Активна")
    assert miniapp.outside == []
    assert miniapp.errors == []


async def test_outside_telegram_or_with_forged_init_data_the_page_says_what_to_do(
    miniapp: MiniApp,
) -> None:
    outside = await miniapp.open(CUSTOMER, PHONE, language="en", init_data="", locale="en-US")
    await expect(outside.locator("h1")).to_have_text("Open the shop in Telegram")
    forged = miniapp.init_data(CUSTOMER).replace("hash=", "hash=00")
    page = await miniapp.open(CUSTOMER, PHONE, language="en", init_data=forged)
    await expect(page.locator(".error")).to_contain_text(
        "Telegram did not confirm who you are. Close the shop and open it again from the bot."
    )
    await expect(page.locator(".error button")).to_have_text("Try again")
