"""The sandbox checkout page in a real browser: what a customer sees at desktop and phone width,
in their language, and what Pay and Decline do to the payment."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from db.models import Payment, User
from main import Service
from payments.tickets.rules import TicketRules
from payments.types import PaymentRequest, ReceiptLine
from tests.browser.conftest import DESKTOP, PHONE, Offline

pytestmark = pytest.mark.browser

RETURN_URL = "https://t.me/zoo_tickets_bot"
SPACES = re.compile(r"\s+")  # thin and no-break spaces included


def plain(text: str) -> str:
    """Collapse every kind of space to one ASCII space, as a reader sees it."""
    return SPACES.sub(" ", text).strip()


async def add_customer(service: Service, user_id: str, language: str) -> None:
    async with service.sessionmaker.begin() as session:
        session.add(User(id=user_id, first_name="Anna", language=language))


async def buy_tickets(service: Service, user_id: str) -> str:
    """Start a ticket payment (2 adults + 1 child = 2 500 ₽) as the bot would; return its URL."""
    rules = TicketRules(service.catalog, service.settings.tz)
    now = service.clock.now()
    visit = rules.today(now) + timedelta(days=2)
    order = rules.validate(visit, "12:00", {"adult": 2, "child": 1}, now)
    started = await service.payments.checkout.start_tickets(user_id, order, return_url=RETURN_URL)
    return started.result.confirmation_url


async def buy_plan(service: Service, user_id: str) -> str:
    started = await service.payments.checkout.start_subscription(
        user_id, "monthly", return_url=RETURN_URL
    )
    return started.confirmation_url


async def status_of(service: Service, user_id: str) -> str:
    async with service.sessionmaker() as session:
        payment = (
            await session.execute(select(Payment).where(Payment.user_id == user_id))
        ).scalar_one()
    return payment.status


async def wait_status(service: Service, user_id: str, status: str) -> None:
    """Wait until our database has the payment in `status` (the webhook was applied)."""
    for _ in range(200):
        if await status_of(service, user_id) == status:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"payment of {user_id} is {await status_of(service, user_id)}, not {status}")


async def check_layout(page: Page, shot: Path) -> str:
    """Screenshot the page; assert Pay and Decline are in view with no sideways scrolling."""
    await page.screenshot(path=shot, full_page=True)
    viewport = page.viewport_size
    assert viewport is not None
    sideways = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert sideways <= 0, f"the page scrolls sideways by {sideways}px"
    for button in (page.locator("button.pay"), page.locator("button.decline")):
        await expect(button).to_be_visible()
        box = await button.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= viewport["width"]
        assert box["y"] + box["height"] <= viewport["height"], "the button is below the fold"
        assert box["height"] >= 40, "a thumb-sized button"
    return plain(await page.locator("body").inner_text())


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Sandbox — no real money is charged",
                "ZooTicket",
                "Adult × 2 2 000 ₽",
                "Child (3–13) × 1 500 ₽",
                "Total 2 500 ₽",
                "Pay 2 500 ₽",
                "Decline",
            ],
        ),
        (
            "ru",
            [
                "Тестовый режим: настоящие деньги не списываются",
                "ZooTicket",
                "Взрослый × 2 2 000 ₽",
                "Детский (3–13 лет) × 1 500 ₽",
                "Итого 2 500 ₽",
                "Оплатить 2 500 ₽",
                "Отказаться от оплаты",
            ],
        ),
    ],
    ids=["en", "ru"],
)
async def test_ticket_checkout_reads_well_on_desktop_and_phone_and_pays(
    service: Service, offline: Offline, tmp_path: Path, language: str, expected: list[str]
) -> None:
    await add_customer(service, "7001", language)
    url = await buy_tickets(service, "7001")
    page = await offline.page(DESKTOP)
    await page.goto(url)
    assert await page.locator("html").get_attribute("lang") == language
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        seen = await check_layout(page, tmp_path / f"checkout-{language}-{width}.png")
        for words in expected:
            assert words in seen, (width, words, seen)
        assert "SANDBOX" in seen
        if language == "en":
            assert not re.search("[а-яё]", seen, re.IGNORECASE), seen
    await page.locator("button.pay").click()
    await wait_status(service, "7001", "succeeded")
    # The page refreshes itself while the shop captures; it ends on the success.
    headline = page.locator("h2.headline")
    success = {"en": "Payment successful", "ru": "Оплата прошла"}[language]
    await expect(headline).to_have_text(success, timeout=10_000)
    await page.screenshot(path=tmp_path / f"paid-{language}-phone.png", full_page=True)
    back = page.locator("a.back")
    await expect(back).to_have_attribute("href", RETURN_URL)
    assert await page.locator("button.pay").count() == 0
    assert offline.outside == []


@pytest.mark.parametrize(
    ("language", "line", "declined", "no_money"),
    [
        ("en", "Monthly subscription — 30 days 299 ₽", "Payment declined", "No money was taken."),
        ("ru", "Месячная подписка — 30 дней 299 ₽", "Оплата отклонена", "Деньги не списаны."),
    ],
    ids=["en", "ru"],
)
async def test_plan_checkout_on_a_phone_declines(
    service: Service,
    offline: Offline,
    tmp_path: Path,
    language: str,
    line: str,
    declined: str,
    no_money: str,
) -> None:
    await add_customer(service, "7002", language)
    url = await buy_plan(service, "7002")
    page = await offline.page(PHONE)
    await page.goto(url)
    seen = await check_layout(page, tmp_path / f"plan-{language}-phone.png")
    assert line in seen, seen
    await page.locator("button.decline").click()
    await expect(page.locator("h2.headline")).to_have_text(declined)
    await page.screenshot(path=tmp_path / f"declined-{language}-phone.png", full_page=True)
    assert no_money in plain(await page.locator("body").inner_text())
    await wait_status(service, "7002", "canceled")
    assert offline.outside == []


async def test_a_payment_that_saves_the_card_says_so_and_its_switch_fails_a_charge(
    service: Service, offline: Offline, tmp_path: Path
) -> None:
    gateway = service.payments.gateway
    line = ReceiptLine("Подписка", 1, Decimal("299.00"), 1, "service", "full_payment")
    first = PaymentRequest(
        idempotence_key="save-1",
        amount=Decimal("299.00"),
        description="ZooTicket",
        return_url=RETURN_URL,
        capture=True,
        metadata={"lang": "en"},
        receipt_lines=[line],
        receipt_email="anna@example.com",
        save_payment_method=True,
    )
    created = await gateway.create_payment(first)
    assert created.confirmation_url
    page = await offline.page(PHONE)
    await page.goto(created.confirmation_url)
    notice = page.locator("p.save-card")
    await expect(notice).to_contain_text("Your card will be saved for auto-renewal")
    seen = await check_layout(page, tmp_path / "save-card-phone.png")
    assert "turn auto-renewal off in the shop at any time" in seen
    await page.locator("button.pay").click()
    await expect(page.locator("h2.headline")).to_have_text("Payment successful", timeout=10_000)
    await expect(page.locator("p.save-card")).to_have_text(
        "Card •••• 4444 is saved for auto-renewal."
    )
    await page.locator("select[name=reason]").select_option("insufficient_funds")
    await page.locator("button.fail-charges").click()
    await expect(page.locator("p.card-state")).to_contain_text("declined (insufficient_funds)")
    await page.screenshot(path=tmp_path / "saved-card-phone.png", full_page=True)
    method = (await gateway.get_payment(created.id)).saved_method
    assert method is not None
    charge = replace(
        first,
        idempotence_key="renew-1",
        return_url="",
        save_payment_method=False,
        payment_method_id=method.id,
    )
    declined = await gateway.create_payment(charge)
    assert declined.cancellation_reason == "insufficient_funds"
    assert offline.outside == []
