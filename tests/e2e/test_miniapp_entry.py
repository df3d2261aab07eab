"""The bot's ways into the Mini App: the chat menu button and /start's shop button."""

from __future__ import annotations

import logging
import socket

import pytest

from tests.e2e.conftest import ShopFactory

PUBLIC = "https://zoo.example"
CHAT_MENU = ["🎟 Билеты", "⭐ Подписка", "🧾 Мои покупки", "❓ Помощь", "🌐 Язык / Language"]


async def test_menu_button_and_start_open_the_mini_app_over_https(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(PUBLIC_BASE_URL=PUBLIC)
    telegram = shop.telegram
    user = telegram.user(1401, first_name="Анна", language_code="ru")
    await user.send("/start")
    menu = await user.wait_reply()
    assert telegram.menu_buttons[None] == {
        "type": "web_app",
        "text": "Магазин",
        "web_app": {"url": f"{PUBLIC}/app/"},
    }
    assert menu.button_texts() == ["🛍 Открыть магазин", *CHAT_MENU]
    assert await user.press("🛍 Открыть магазин") == f"{PUBLIC}/app/"

    # The chat journey is still there: help and back to the menu (an edit), then tickets.
    await user.press("❓ Помощь")
    await user.wait_reply()
    await user.press("⬅️ В меню")
    back = await user.wait_reply()
    assert back.message_id == menu.message_id
    assert back.button_texts() == ["🛍 Открыть магазин", *CHAT_MENU]
    await user.press("🎟 Билеты")
    dates = await user.wait_for(lambda m: "Выберите дату визита" in (m.text or ""))
    assert dates.buttons


async def test_webhook_mode_sets_the_menu_button_too(make_shop: ShopFactory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    hook = f"http://127.0.0.1:{port}/telegram/webhook"
    shop = await make_shop(HTTP_PORT=port, TELEGRAM_WEBHOOK_URL=hook, PUBLIC_BASE_URL=PUBLIC)
    await shop.telegram.wait_for_request("setWebhook")
    assert shop.telegram.menu_buttons[None]["web_app"] == {"url": f"{PUBLIC}/app/"}
    user = shop.telegram.user(1404, language_code="ru")
    await user.send("/start")
    assert (await user.wait_reply(timeout=10)).button_texts()[0] == "🛍 Открыть магазин"


async def test_shop_button_follows_the_users_language(make_shop: ShopFactory) -> None:
    shop = await make_shop(PUBLIC_BASE_URL=PUBLIC)
    john = shop.telegram.user(1402, first_name="John", language_code="en")
    await john.send("/start")
    menu = await john.wait_reply()
    assert menu.button_texts()[0] == "🛍 Open the shop"
    assert await john.press("🛍 Open the shop") == f"{PUBLIC}/app/"

    # Picking Russian shows the menu in Russian, the shop button included.
    await john.press("🌐 Language", contains=True)
    await john.wait_reply()
    await john.press("Русский", contains=True)
    switched = await john.wait_reply()
    assert switched.button_texts()[0] == "🛍 Открыть магазин"


async def test_plain_http_warns_once_and_start_still_answers(
    make_shop: ShopFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    shop = await make_shop(PUBLIC_BASE_URL="http://127.0.0.1:8080")
    user = shop.telegram.user(1403, first_name="Анна", language_code="ru")
    await user.send("/start")
    menu = await user.wait_reply()
    assert menu.button_texts() == CHAT_MENU
    assert not any("web_app" in button for row in menu.buttons for button in row)

    refused = [i for i, (name, _) in enumerate(shop.telegram.requests)
               if name == "setChatMenuButton"]  # fmt: skip
    assert len(refused) == 1 and shop.telegram.refusals[refused[0]][0] == 400
    assert shop.telegram.menu_buttons == {}
    warnings = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and "menu button" in r.getMessage()
    ]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "http://127.0.0.1:8080/app/" in message
    assert "Only HTTPS links are allowed" in message
    assert "PUBLIC_BASE_URL" in message
