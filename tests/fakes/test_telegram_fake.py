"""Self-tests of the fake Telegram Bot API, driven by the real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from .telegram_api import NOT_MODIFIED, FakeTelegramAPI

pytestmark = pytest.mark.asyncio

MENU = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Buy ticket", callback_data="buy")],
        [InlineKeyboardButton(text="Site", url="https://zoo.example/")],
    ]
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 640, 480) + b"\x08\x02rest"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest_asyncio.fixture
async def bot(fake: FakeTelegramAPI) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    bot = Bot(fake.token, session=session)
    yield bot
    await bot.session.close()


def menu_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("<b>Menu</b> &amp; more", parse_mode="HTML", reply_markup=MENU)

    @router.callback_query(F.data == "buy")
    async def buy(query: CallbackQuery) -> None:
        await query.answer("Added")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Bought", reply_markup=MENU)

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


@contextlib.asynccontextmanager
async def polling(fake: FakeTelegramAPI, bot: Bot) -> AsyncIterator[Dispatcher]:
    dp = Dispatcher()
    dp.include_router(menu_router())
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        await fake.wait_for_request("getUpdates")
        yield dp
    finally:
        if not task.done():
            await dp.stop_polling()
        await task


async def test_get_me_and_wire_formats(fake: FakeTelegramAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456789, True, "test_bot")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}/bot{fake.token}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.get(f"{fake.base_url}/botnot-a-token/getMe") as resp:
            assert resp.status == 401
        async with http.get(f"{fake.base_url}/bot42:other/GETME") as resp:
            assert (await resp.json())["result"]["is_bot"] is True
        body = {"chat_id": 7, "text": "json body", "reply_markup": {"inline_keyboard": []}}
        async with http.post(f"{fake.base_url}/bot{fake.token}/sendmessage", json=body) as resp:
            result = (await resp.json())["result"]
    assert result["chat"] == {"id": 7, "type": "private", "first_name": "User 7"}
    assert result["from"]["id"] == fake.bot_id
    assert fake.calls("sendMessage")[0]["reply_markup"] == {"inline_keyboard": []}
    assert fake.chat(7).messages[0].text == "json body"


async def test_polling_menu_flow(fake: FakeTelegramAPI, bot: Bot) -> None:
    anna, boris = fake.user(1001), fake.user(1002, first_name="Boris", language_code="en")
    async with polling(fake, bot):
        await anna.send("/start")
        await boris.send("hello")
        menu = await anna.wait_reply()
        assert menu.text == "Menu & more"
        assert menu.button_texts() == ["Buy ticket", "Site"]
        assert (await boris.wait_reply()).text == "echo: hello"

        await anna.press("Buy", contains=True)
        answer = await anna.wait_callback_answer()
        edited = await anna.wait_reply()
        assert (answer.text, edited.edited, edited.text) == ("Added", True, "Bought")
        assert edited.message_id == menu.message_id == 2
        assert anna.callback_answers == ["Added"]
        assert await anna.press("Site") == "https://zoo.example/"
        assert [m.text for m in anna.messages] == ["Bought"]

    polls = fake.calls("getUpdates")
    assert sorted(polls[0]["allowed_updates"]) == ["callback_query", "message"]
    assert [m.message_id for m in fake.chat(1002).messages] == [1, 2]
    assert fake.chat(1001).messages[0].text == "/start"


async def test_edit_delete_and_callback_errors(fake: FakeTelegramAPI, bot: Bot) -> None:
    user = fake.user(5)
    sent = await bot.send_message(user.user_id, "hi", reply_markup=MENU)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.edit_message_text("hi", chat_id=5, message_id=sent.message_id, reply_markup=MENU)
    assert info.value.message == NOT_MODIFIED
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=5, message_id=99)
    await bot.edit_message_reply_markup(chat_id=5, message_id=sent.message_id)
    assert user.last_message.buttons == []
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("unknown")
    query_id = fake.register_query(5, 5)
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    assert await bot.delete_message(5, sent.message_id)
    assert fake.chat(5).messages[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(5, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(5, "line<br>break", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(5, "<b>open", parse_mode="HTML")
    assert user.messages == []


async def test_files_media_group_and_document(fake: FakeTelegramAPI, bot: Bot) -> None:
    photo = await bot.send_photo(9, BufferedInputFile(PNG, "qr.png"), caption="Your ticket")
    assert photo.photo is not None
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    again = await bot.send_photo(9, photo.photo[-1].file_id)
    group = await bot.send_media_group(
        9,
        [
            InputMediaPhoto(media=BufferedInputFile(b"one", "1.jpg"), caption="first"),
            InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg")),
        ],
    )
    doc = await bot.send_document(9, BufferedInputFile(b"%PDF-1", "ticket.pdf"))
    assert doc.document is not None
    assert doc.document.file_name == "ticket.pdf"
    assert doc.document.mime_type == "application/pdf"

    chat = fake.chat(9)
    assert chat.messages[0].photos == [PNG]
    assert chat.messages[0].caption == "Your ticket"
    assert chat.get(again.message_id) is not None
    assert chat.messages[1].photos == [PNG]
    assert len(group) == 2
    [(group_id, items)] = chat.media_groups.items()
    assert group_id == group[0].media_group_id
    assert [m.photos for m in items] == [[b"one"], [b"two"]]
    assert chat.messages[-1].documents == [("ticket.pdf", b"%PDF-1")]
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(9, "no-such-file-id")


async def test_rate_limit_failures_and_block(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.rate_limit(2, retry_after=3)
    await bot.send_message(1, "a")
    await bot.send_message(2, "b")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(3, "c")
    assert info.value.retry_after == 3
    assert fake.chat(3).messages == []
    fake.rate_limit(None)

    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(3, "c")
    assert info.value.retry_after == 7
    fake.fail_next("sendmessage", 502, "Bad Gateway", times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(3, "c")
    await bot.send_message(3, "c")
    assert [m.text for m in fake.chat(3).messages] == ["c"]

    fake.block(3)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(3, "d")
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("e", chat_id=3, message_id=1)
    fake.unblock(3)
    await bot.send_chat_action(3, "typing")
    assert fake.chat(3).actions == ["typing"]


async def test_get_updates_long_poll_offset_and_filter(fake: FakeTelegramAPI, bot: Bot) -> None:
    user = fake.user(77)
    await user.send("one")
    await user.send("two")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["one", "two"]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []
    assert fake.pending_updates == []

    started = time.monotonic()
    waiter = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_request("getUpdates", lambda p: p.get("timeout") == "5")
    await user.send("three")
    [update] = await waiter
    assert update.message is not None
    assert update.message.text == "three"
    assert time.monotonic() - started < 2
    await user.send("/help")
    assert (
        await bot.get_updates(offset=update.update_id + 1, allowed_updates=["callback_query"]) == []
    )
    assert fake.pending_updates == []


async def test_commands(fake: FakeTelegramAPI, bot: Bot) -> None:
    commands = [BotCommand(command="start", description="Меню")]
    await bot.set_my_commands(commands, language_code="ru")
    await bot.set_my_commands(
        [BotCommand(command="admin", description="Admin")], scope=BotCommandScopeChat(chat_id=5)
    )
    assert fake.commands[("default", "ru")] == [{"command": "start", "description": "Меню"}]
    assert fake.commands[("chat:5", "")][0]["command"] == "admin"
    ru_commands = await bot.get_my_commands(language_code="ru")
    assert [(c.command, c.description) for c in ru_commands] == [("start", "Меню")]
    assert await bot.get_my_commands() == []


async def test_chat_menu_button_default_and_per_chat(fake: FakeTelegramAPI, bot: Bot) -> None:
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonDefault)
    shop = MenuButtonWebApp(text="Shop", web_app=WebAppInfo(url="https://zoo.example/app/"))
    assert await bot.set_chat_menu_button(menu_button=shop) is True
    assert fake.menu_buttons[None] == {
        "type": "web_app",
        "text": "Shop",
        "web_app": {"url": "https://zoo.example/app/"},
    }
    # A chat without a button of its own shows the default one.
    chat_button = await bot.get_chat_menu_button(chat_id=5)
    assert isinstance(chat_button, MenuButtonWebApp)
    assert (chat_button.text, chat_button.web_app.url) == ("Shop", "https://zoo.example/app/")
    await bot.set_chat_menu_button(chat_id=5, menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(chat_id=5), MenuButtonCommands)
    assert isinstance(await bot.get_chat_menu_button(chat_id=6), MenuButtonWebApp)


async def test_web_app_urls_must_be_https(fake: FakeTelegramAPI, bot: Bot) -> None:
    plain = WebAppInfo(url="http://127.0.0.1:8080/app/")
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text="Shop", web_app=plain))
    assert refused.value.message == (
        "Bad Request: menu button Web App URL 'http://127.0.0.1:8080/app/' is invalid: "
        "Only HTTPS links are allowed"
    )
    assert fake.menu_buttons == {}
    assert fake.refusals[len(fake.requests) - 1][0] == 400

    def shop(web_app: WebAppInfo) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Open the shop", web_app=web_app)]]
        )

    inline_refusal = (
        "Bad Request: inline keyboard button Web App URL 'http://127.0.0.1:8080/app/' is "
        "invalid: Only HTTPS links are allowed"
    )
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.send_message(6, "menu", reply_markup=shop(plain))
    assert refused.value.message == inline_refusal
    assert fake.chat(6).messages == []
    sent = await bot.send_message(6, "menu", reply_markup=MENU)
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.edit_message_text("menu!", chat_id=6, message_id=sent.message_id,
                                    reply_markup=shop(plain))  # fmt: skip
    assert refused.value.message == inline_refusal
    assert fake.chat(6).messages[0].text == "menu"
    secure = WebAppInfo(url="https://zoo.example/app/")
    await bot.send_message(6, "shop", reply_markup=shop(secure))
    assert await fake.user(6).press("Open the shop") == "https://zoo.example/app/"


async def test_driver_errors(fake: FakeTelegramAPI, bot: Bot) -> None:
    user = fake.user(3)
    await bot.send_message(3, "pick", reply_markup=MENU)
    with pytest.raises(AssertionError, match=r"no button 'Sell'.*Buy ticket"):
        await user.press("Sell")
    await user.send("anyone?")
    with pytest.raises(AssertionError, match="timed out"):
        await user.wait_reply(timeout=0.05)
    await bot.send_message(3, "first")
    await bot.send_message(3, "second")
    found = await user.wait_for(lambda m: m.text == "second", timeout=1)
    assert found.text == "second"
    with pytest.raises(AssertionError, match="timed out"):
        await user.wait_reply(timeout=0.05)


async def test_reply_keyboard_press_sends_text(fake: FakeTelegramAPI, bot: Bot) -> None:
    user = fake.user(4, username="anna")
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Tickets")]], resize_keyboard=True
    )
    await bot.send_message(4, "choose", reply_markup=keyboard)
    await bot.send_message(4, "no inline buttons here")
    update_id = await user.press("Tick", contains=True)
    [update] = await bot.get_updates(timeout=0)
    assert update.update_id == update_id
    assert update.message is not None
    assert update.message.text == "Tickets"
    assert update.message.from_user is not None
    assert update.message.from_user.username == "anna"
    await bot.send_message(4, "removed", reply_markup=ReplyKeyboardRemove())
    with pytest.raises(AssertionError, match="no button"):
        await user.press("Tickets")


async def test_webhook_delivery_with_secret_and_retry(fake: FakeTelegramAPI, bot: Bot) -> None:
    received: list[tuple[str | None, int]] = []

    async def endpoint(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), 0))
        update = await request.json()
        received[-1] = (received[-1][0], update["update_id"])
        return web.json_response({}, status=500 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    async with serve(app) as url:
        assert await bot.set_webhook(f"{url}/hook", secret_token="s3cr3t")
        user = fake.user(11)
        update_id = await user.send("hi")
        await fake.wait_webhook_idle()
        assert fake.webhook_deliveries == [(500, update_id), (200, update_id)]
        assert received == [("s3cr3t", update_id), ("s3cr3t", update_id)]
        info = await bot.get_webhook_info()
        assert info.url == f"{url}/hook"
        assert info.last_error_message is not None
        with pytest.raises(TelegramConflictError):
            await bot.get_updates(timeout=0)
        await bot.delete_webhook()
    await user.send("queued")
    assert len(fake.pending_updates) == 1


async def test_webhook_posts_up_to_max_connections_at_once_and_each_chat_in_turn(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    posting: list[int] = []  # chats being posted right now
    overlaps: list[int] = []  # chats with two updates posted at once
    most = 0
    order: list[tuple[int, str]] = []
    release, three_posting = asyncio.Event(), asyncio.Event()

    async def endpoint(request: web.Request) -> web.Response:
        nonlocal most
        message = (await request.json())["message"]
        chat = message["chat"]["id"]
        if chat in posting:
            overlaps.append(chat)
        posting.append(chat)
        most = max(most, len(posting))
        if len(posting) == 3:  # noqa: PLR2004
            three_posting.set()
        await release.wait()
        order.append((chat, message["text"]))
        posting.remove(chat)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    async with serve(app) as url:
        assert await bot.set_webhook(f"{url}/hook", max_connections=3)
        assert (await bot.get_webhook_info()).max_connections == 3  # noqa: PLR2004
        await fake.user(21).send("first")
        await fake.user(21).send("second")
        for chat in (22, 23, 24):
            await fake.user(chat).send("first")
        async with asyncio.timeout(5):
            await three_posting.wait()
        release.set()
        await fake.wait_webhook_idle()
    assert most == 3  # noqa: PLR2004 - never more than max_connections
    assert len(order) == 5  # noqa: PLR2004
    assert not overlaps
    assert [text for chat, text in order if chat == 21] == ["first", "second"]


@pytest.mark.parametrize(
    ("secret", "error"),
    [
        ("s3cr3t+/=", "secret token contains unallowed characters"),
        ("секрет", "secret token contains unallowed characters"),
        ("a" * 257, "secret token is too long"),
    ],
)
async def test_set_webhook_refuses_a_secret_telegram_would_refuse(
    fake: FakeTelegramAPI, bot: Bot, secret: str, error: str
) -> None:
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.set_webhook("https://shop.example.com/hook", secret_token=secret)
    assert fake.webhook_url is None
    assert await bot.set_webhook("https://shop.example.com/hook", secret_token="a-Z_9" * 51)
    assert fake.webhook_secret == "a-Z_9" * 51


async def test_webhook_with_aiogram_reply_into_webhook(fake: FakeTelegramAPI, bot: Bot) -> None:
    router = Router()

    @router.message(F.text == "ping")
    async def ping(message: Message) -> SendMessage:
        return message.answer("pong")

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    handler = SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="tok")
    handler.register(app, path="/tg")
    async with serve(app) as url:
        await bot.set_webhook(f"{url}/tg", secret_token="tok", allowed_updates=["message"])
        user = fake.user(21)
        await user.send("ping")
        reply = await user.wait_reply()
        assert reply.text == "pong"
        assert fake.webhook_deliveries[-1][0] == 200


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
