"""The Mini App's auto-renewal as a customer meets it: the toggle on the Plans screen (off by
default), the terms before the pay button, a payment in the sandbox that saves the card, the
subscription saying "auto-renewal on, card *4444", then turned off, on again and the card
forgotten."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from db.models_subscriptions import RenewalConsent
from tests.browser.conftest import PHONE, MiniApp, Shots
from tests.browser.test_miniapp_screens import CUSTOMER, add_customer, pay_and_open_checkout, plain

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_a_plan_bought_with_auto_renewal_then_turned_off_on_and_card_forgotten(
    miniapp: MiniApp, shots: Shots
) -> None:
    await add_customer(miniapp.service, "ru")
    page = await miniapp.open(CUSTOMER, PHONE, language="ru")
    await page.locator('.tab[data-screen="plans"]').click()
    toggle = page.locator("#renew-toggle")
    await expect(toggle).not_to_be_checked()  # off by default: one-off stays two taps
    await page.locator('.plan[data-plan="monthly"]').click()
    main_button = page.locator("#tg-main-button")
    await expect(main_button).to_be_visible()
    await expect(page.locator(".renew-terms")).to_have_count(0)

    # On: the terms come before the pay button.
    await page.locator("label.renew-switch").click()
    terms = page.locator(".renew-terms")
    await expect(terms).to_contain_text("каждые 30 дней")
    text = plain(await terms.inner_text())
    assert "Следующее списание" in text
    assert "/my" in text
    await expect(main_button).to_be_visible()
    await shots.take(page, "terms")

    checkout = await pay_and_open_checkout(page)
    await checkout.locator("button.pay").click()
    await expect(page.locator(".result.paid p")).to_have_text("Подписка активна.", timeout=15_000)
    await page.locator(".actions button").click()
    state = page.locator(".renew-state")
    await expect(state.locator(".renew-status")).to_have_text("Автопродление включено, Карта *4444")
    await expect(state.locator(".renew-next")).to_contain_text("Следующее списание")
    await shots.take(page, "auto-renewal-on")
    async with miniapp.service.sessionmaker() as session:
        consent = (await session.execute(select(RenewalConsent))).scalar_one()
    assert consent.channel == "miniapp"

    # Off: the paid period stays, the card is kept for turning it on again.
    await state.locator("button.renew-off").click()
    await expect(page.locator(".renew-said")).to_have_text(
        "Автопродление отключено. Оплаченные дни остаются."
    )
    await expect(state.locator(".renew-status")).to_have_text(
        "Автопродление выключено. Сохранена Карта *4444"
    )
    await expect(page.locator(".subscription.active")).to_contain_text("Активна")
    await shots.take(page, "auto-renewal-off")

    # On again: the terms are shown again first.
    await state.locator("button.renew-on").click()
    await expect(state.locator(".renew-terms")).to_contain_text("каждые 30 дней")
    await state.locator("button.renew-agree").click()
    await expect(state.locator(".renew-status")).to_have_text("Автопродление включено, Карта *4444")

    await state.locator("button.renew-forget").click()
    await expect(state.locator(".renew-status")).to_have_text("Автопродление выключено")
    await expect(state.locator("button")).to_have_count(0)
    assert miniapp.outside == []
    assert miniapp.errors == []
