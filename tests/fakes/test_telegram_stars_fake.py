"""Self-tests of the fake's Telegram Stars methods, driven by the real aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice

from .telegram_api import FakeTelegramAPI
from .telegram_stars import STARS_PERIOD, FakeStars

pytestmark = pytest.mark.asyncio

MONTH = [LabeledPrice(label="Month", amount=100)]


@pytest_asyncio.fixture
async def world() -> AsyncIterator[tuple[FakeTelegramAPI, FakeStars, Bot]]:
    async with FakeTelegramAPI() as fake:
        stars = FakeStars.attach(fake)
        bot = Bot(
            fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        )
        try:
            yield fake, stars, bot
        finally:
            await bot.session.close()


def _invoice(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Online zoo",
        "description": "30 days",
        "payload": "stars:ZT_1",
        "currency": "XTR",
        "prices": MONTH,
        "subscription_period": STARS_PERIOD,
    }
    values.update(overrides)
    return values


async def test_a_stars_subscription_link_is_made_without_a_provider_token(
    world: tuple[FakeTelegramAPI, FakeStars, Bot],
) -> None:
    fake, stars, bot = world
    link = await bot.create_invoice_link(**_invoice())
    assert link.startswith("https://t.me/$")
    assert stars.invoices[link].subscription_period == STARS_PERIOD
    assert "provider_token" not in fake.calls("createInvoiceLink")[-1]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"provider_token": "381764678:TEST:1"}, "PROVIDER_TOKEN_INVALID"),
        ({"prices": [*MONTH, LabeledPrice(label="Tip", amount=1)]}, "STARS_INVOICE_INVALID"),
        ({"subscription_period": 86_400}, "SUBSCRIPTION_PERIOD_INVALID"),
        (
            {"currency": "RUB", "provider_token": "381764678:TEST:1"},
            "SUBSCRIPTION_PERIOD_INVALID",
        ),
        ({"title": "x" * 33}, "title is too long"),
    ],
)
async def test_invoice_links_are_validated_as_telegram_does(
    world: tuple[FakeTelegramAPI, FakeStars, Bot], overrides: dict[str, Any], error: str
) -> None:
    _, _, bot = world
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.create_invoice_link(**_invoice(**overrides))


async def test_refunds_and_subscription_edits_need_a_known_charge_of_that_user(
    world: tuple[FakeTelegramAPI, FakeStars, Bot],
) -> None:
    fake, stars, bot = world
    with pytest.raises(TelegramBadRequest, match="CHARGE_ID_INVALID"):
        await bot.refund_star_payment(user_id=1, telegram_payment_charge_id="nope")
    with pytest.raises(TelegramBadRequest, match="CHARGE_ID_INVALID"):
        await bot.edit_user_star_subscription(
            user_id=1, telegram_payment_charge_id="nope", is_canceled=True
        )
    link = await bot.create_invoice_link(**_invoice())
    user = fake.user(7)
    # Nobody answers the pre-checkout query here: the driver answers it as the bot would.
    charge = stars._charge(user, stars.invoices[link], first=True)
    with pytest.raises(TelegramBadRequest, match="CHARGE_ID_INVALID"):
        await bot.refund_star_payment(user_id=8, telegram_payment_charge_id=charge.charge_id)
    assert await bot.refund_star_payment(user_id=7, telegram_payment_charge_id=charge.charge_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(user_id=7, telegram_payment_charge_id=charge.charge_id)
    assert stars.refunds == [(7, charge.charge_id)]
