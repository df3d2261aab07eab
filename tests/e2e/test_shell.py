"""The bot shell through the real Bot and the local Bot API: /start, /help, menu, commands."""

from __future__ import annotations

from tests.e2e.conftest import ShopFactory


async def test_start_shows_the_main_menu(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(1001, first_name="Анна", language_code="ru")
    await user.send("/start")
    reply = await user.wait_reply()
    assert "Анна" in (reply.text or "")
    assert reply.button_texts() == [
        "🎟 Билеты",
        "⭐ Подписка",
        "🧾 Мои покупки",
        "❓ Помощь",
        "🌐 Язык / Language",
    ]


async def test_english_user_gets_english_and_help_edits_in_place(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(1002, first_name="John", language_code="en")
    await user.send("/start")
    menu = await user.wait_reply()
    assert menu.text and menu.text.startswith("Hello, John!")
    await user.press("❓ Help")
    helped = await user.wait_reply()
    assert helped.message_id == menu.message_id
    assert helped.text and "/tickets" in helped.text
    await user.press("⬅️ Menu")
    back = await user.wait_reply()
    assert back.message_id == menu.message_id
    assert "Tickets" in " ".join(back.button_texts())


async def test_help_command_and_unknown_text(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(1003)
    await user.send("/help")
    assert "/subscribe" in ((await user.wait_reply()).text or "")
    await user.send("как дела?")
    assert "/help" in ((await user.wait_reply()).text or "")


async def test_commands_are_registered_in_russian_and_english(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    user = shop.telegram.user(1004)
    await user.send("/start")
    await user.wait_reply()
    registered = {
        lang: [c["command"] for c in cmds] for (_, lang), cmds in shop.telegram.commands.items()
    }
    assert set(registered) >= {"", "ru", "en"}
    for commands in registered.values():
        assert commands == ["start", "tickets", "subscribe", "my", "language", "help", "cancel"]
