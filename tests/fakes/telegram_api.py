"""Stateful local fake of the Telegram Bot API (aiohttp server) plus a user driver for tests.

Usage::

    async with FakeTelegramAPI() as fake:
        api = TelegramAPIServer.from_base(fake.base_url)
        bot = Bot(fake.token, session=AiohttpSession(api=api))
        ...  # start polling (or set a webhook), then drive the bot like a human:
        anna = fake.user(1001, first_name="Anna")
        await anna.send("/start")
        menu = await anna.wait_reply()
        await anna.press("Buy")
        edited = await anna.wait_reply()

Error injection: ``fake.block(user_id)``, ``fake.fail_next(...)``, ``fake.rate_limit(...)``.
Extra Bot API methods can be added with ``fake.register_method(name, handler)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import mimetypes
import re
import struct
import time
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]
Params = dict[str, Any]
MethodHandler = Callable[[Params], Awaitable[Any]]
MessagePredicate = Callable[["ChatMessage"], bool]
T = TypeVar("T")

DEFAULT_TOKEN = "123456789:TEST-token"  # noqa: S105 - fake credential
TOKEN_RE = re.compile(r"^(\d+):(\S+)$")
WEBHOOK_CONNECTIONS = 40  # setWebhook's max_connections when not given
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
ONLY_HTTPS = "Only HTTPS links are allowed"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_MAX_LENGTH = 256
SECRET_RE = re.compile(r"[A-Za-z0-9_-]+")

_JSON_FIELD_NAMES = (
    "reply_markup media allowed_updates commands scope entities caption_entities "
    "link_preview_options reply_parameters prices results suggested_tip_amounts "
    "input_message_content menu_button message_ids reaction rights options"
)
_JSON_FIELDS = frozenset(_JSON_FIELD_NAMES.split())
_HTML_TAG_NAMES = "b strong i em u ins s strike del span tg-spoiler a tg-emoji code pre blockquote"
_HTML_TAGS = frozenset(_HTML_TAG_NAMES.split()) | {"tg-time"}
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_NO_LIMIT_METHODS = frozenset({"sendChatAction"})


def busiest_second(moments: list[float], *, window: float = 1.0) -> int:
    """Return the most moments in any window of `window` seconds: at one second, what
    Telegram's ~30/s counts. A shorter window allows for moments noted a little after the ones
    a budget counted."""
    ordered, best, left = sorted(moments), 0, 0
    for right, moment in enumerate(ordered):
        while ordered[left] <= moment - window:
            left += 1
        best = max(best, right - left + 1)
    return best


class FakeApiError(Exception):
    """An error answer of the fake Bot API; method handlers raise it."""

    def __init__(
        self, error_code: int, description: str, parameters: JSONDict | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters or {}

    def payload(self) -> JSONDict:
        """Return the Bot API error envelope."""
        body: JSONDict = {"ok": False, "error_code": self.error_code}
        body["description"] = self.description
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> FakeApiError:
    """Build a 400 ``Bad Request: <text>`` error."""
    return FakeApiError(400, f"Bad Request: {text}")


@dataclass(frozen=True)
class StoredFile:
    """A file the bot uploaded (ids are empty while it is still a request part)."""

    filename: str
    data: bytes
    content_type: str
    file_id: str = ""
    file_unique_id: str = ""


@dataclass(frozen=True)
class CallbackAnswer:
    """One ``answerCallbackQuery`` call."""

    query_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class ChatMessage:
    """One message in a fake chat (the bot's or a user's) in its latest state."""

    message_id: int
    chat: JSONDict
    sender: JSONDict
    date: int
    from_bot: bool
    text: str | None = None
    caption: str | None = None
    source: str | None = None  # text or caption exactly as sent (before parse_mode rendering)
    reply_markup: JSONDict | None = None
    photos: list[bytes] = field(default_factory=list)
    documents: list[tuple[str, bytes]] = field(default_factory=list)
    media_group_id: str | None = None
    edited: bool = False
    deleted: bool = False
    extra: JSONDict = field(default_factory=dict)

    @property
    def chat_id(self) -> int:
        """Chat id of the message."""
        return int(self.chat["id"])

    @property
    def buttons(self) -> list[list[JSONDict]]:
        """Keyboard rows (inline keyboard, or reply keyboard when there is no inline one)."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [[b if isinstance(b, dict) else {"text": str(b)} for b in row] for row in rows]

    def button_texts(self) -> list[str]:
        """Flat list of all button labels."""
        return [str(b.get("text", "")) for row in self.buttons for b in row]

    def find_button(self, text: str, *, contains: bool = False) -> JSONDict | None:
        """Return the button labelled ``text`` (or containing it), if any."""
        for row in self.buttons:
            for button in row:
                label = str(button.get("text", ""))
                if label == text or (contains and text in label):
                    return button
        return None

    def to_dict(self) -> JSONDict:
        """Serialise as a Bot API ``Message`` object."""
        data: JSONDict = {"message_id": self.message_id, "date": self.date}
        data.update(chat=dict(self.chat), **{"from": dict(self.sender)})
        if self.text is not None:
            data["text"] = self.text
        if self.caption is not None:
            data["caption"] = self.caption
        if self.media_group_id is not None:
            data["media_group_id"] = self.media_group_id
        inline = _inline(self.reply_markup)
        if inline is not None:
            data["reply_markup"] = copy.deepcopy(inline)
        data.update(copy.deepcopy(self.extra))
        return data

    def snapshot(self) -> ChatMessage:
        """Return an independent copy of the current state."""
        return copy.deepcopy(self)


BotMessage = ChatMessage


@dataclass(frozen=True)
class ChatEvent:
    """Something the bot did in a chat: ``new``, ``edit`` or ``delete`` of a message."""

    kind: str
    message: ChatMessage


class _Signal:
    """Wakes waiters whenever the guarded state changes (no sleeping loops)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(self, check: Callable[[], T | None], timeout: float) -> T:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while (result := check()) is None:
                await self._event.wait()
            return result


class FakeChat:
    """State of one chat: messages, bot events for the driver, chat actions, callback answers."""

    def __init__(self, chat_id: int, info: JSONDict) -> None:
        self.id = chat_id
        self.info = info
        self.messages: list[ChatMessage] = []
        self.events: list[ChatEvent] = []
        self.actions: list[str] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.reply_keyboard: JSONDict | None = None
        self.signal = _Signal()
        self._next_id = 1

    def get(self, message_id: int | None) -> ChatMessage | None:
        """Return the message with this id (deleted ones included) or None."""
        return next((m for m in self.messages if m.message_id == message_id), None)

    @property
    def bot_messages(self) -> list[ChatMessage]:
        """The bot's messages that are not deleted, oldest first."""
        return [m for m in self.messages if m.from_bot and not m.deleted]

    @property
    def media_groups(self) -> dict[str, list[ChatMessage]]:
        """Messages of each media group by ``media_group_id``."""
        groups: dict[str, list[ChatMessage]] = {}
        for msg in self.messages:
            if msg.media_group_id is not None:
                groups.setdefault(msg.media_group_id, []).append(msg)
        return groups

    def add(self, sender: JSONDict, *, from_bot: bool, **fields: Any) -> ChatMessage:
        """Append a new message with the next per-chat id."""
        msg = ChatMessage(self._next_id, dict(self.info), dict(sender), int(time.time()),
                          from_bot, **fields)  # fmt: skip
        self._next_id += 1
        self.messages.append(msg)
        return msg

    def emit(self, kind: str, msg: ChatMessage) -> None:
        """Record a bot event and wake the waiting drivers."""
        self.events.append(ChatEvent(kind, msg.snapshot()))
        self.signal.notify()


class FakeUser:
    """Drives one private chat (chat id == user id) like a human user."""

    def __init__(self, fake: FakeTelegramAPI, info: JSONDict) -> None:
        self._fake = fake
        self.info = info
        self.user_id = int(info["id"])
        self._action_pos = 0
        self._read_pos = 0
        self._last_query: str | None = None

    @property
    def chat(self) -> FakeChat:
        """The private chat with the bot."""
        return self._fake.chat(self.user_id)

    def _mark_action(self) -> None:
        self._action_pos = self._read_pos = len(self.chat.events)

    async def send(self, text: str) -> int:
        """Send a text message to the bot; return the update id."""
        extra: JSONDict = {}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        msg = self.chat.add(self.info, from_bot=False, text=text, source=text, extra=extra)
        self._mark_action()
        return self._fake.enqueue_update({"message": msg.to_dict()})

    async def press(
        self, button_text: str, message: ChatMessage | int | None = None, *, contains: bool = False
    ) -> int | str:
        """Press a button: callback → update id; URL/web app → its url; reply keyboard → text."""
        chat = self.chat
        if message is None:
            candidates: Iterable[ChatMessage] = reversed(chat.bot_messages)
        else:
            live = chat.get(message if isinstance(message, int) else message.message_id)
            candidates = [live] if live is not None and not live.deleted else []
        for msg in candidates:
            button = msg.find_button(button_text, contains=contains)
            if button is not None and _inline(msg.reply_markup) is not None:
                return await self._press_inline(msg, button)
        keyboard = ChatMessage(0, {}, {}, 0, True, reply_markup=chat.reply_keyboard)
        button = keyboard.find_button(button_text, contains=contains)
        if message is None and button is not None:
            return await self.send(str(button["text"]))
        available = [m.button_texts() for m in reversed(chat.bot_messages) if m.buttons][:5]
        raise AssertionError(
            f"no button {button_text!r} in chat {chat.id}; inline keyboards (newest first): "
            f"{available}; reply keyboard: {keyboard.button_texts()}"
        )

    async def press_data(self, callback_data: str, text: str = "old button") -> int | str:
        """Press a callback button that an older keyboard carried (on the newest bot message)."""
        messages = self.chat.bot_messages
        assert messages, "the bot has sent nothing to press on"
        button = {"text": text, "callback_data": callback_data}
        return await self._press_inline(messages[-1], button)

    async def press_in_row(self, row_text: str, button_text: str) -> int | str:
        """Press `button_text` in the row of the newest keyboard that has a button containing
        `row_text` (for keyboards that repeat labels, like − and + per ticket type)."""
        for msg in reversed(self.chat.bot_messages):
            for row in msg.buttons:
                if any(row_text in str(b.get("text", "")) for b in row):
                    button = next((b for b in row if b.get("text") == button_text), None)
                    if button is not None:
                        return await self._press_inline(msg, button)
        raise AssertionError(f"no row with {row_text!r} and a {button_text!r} button")

    async def _press_inline(self, msg: ChatMessage, button: JSONDict) -> int | str:
        if "callback_data" in button:
            query_id = self._fake.register_query(self.user_id, self.chat.id)
            self._last_query = query_id
            query = {"id": query_id, "from": dict(self.info), "message": msg.to_dict()}
            query.update(chat_instance=str(7_000_000_000 + abs(self.chat.id)))
            query["data"] = str(button["callback_data"])
            self._mark_action()
            return self._fake.enqueue_update({"callback_query": query})
        url = button.get("url") or (button.get("web_app") or {}).get("url")
        if url:
            return str(url)
        raise AssertionError(f"button {button.get('text')!r} is not supported by press(): {button}")

    async def wait_reply(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: MessagePredicate | None = None,
    ) -> ChatMessage:
        """Wait for the next new bot message or edit after the last send/press."""
        events = self.chat.events

        def check() -> ChatMessage | None:
            while self._read_pos < len(events):
                event = events[self._read_pos]
                self._read_pos += 1
                if event.kind != "delete" and (predicate is None or predicate(event.message)):
                    return event.message
            return None

        return await self._wait(check, timeout, "a bot reply")

    async def wait_for(self, predicate: MessagePredicate, timeout: float = 5.0) -> ChatMessage:  # noqa: ASYNC109
        """Wait until a bot message/edit since the last send/press satisfies ``predicate``."""
        events = self.chat.events

        def check() -> ChatMessage | None:
            for index in range(self._action_pos, len(events)):
                event = events[index]
                if event.kind != "delete" and predicate(event.message):
                    self._read_pos = max(self._read_pos, index + 1)
                    return event.message
            return None

        return await self._wait(check, timeout, "a matching bot message")

    @property
    def last_query(self) -> str | None:
        """The callback query id of the last press() of a callback button (None before one)."""
        return self._last_query

    async def wait_callback_answer(self, timeout: float = 5.0) -> CallbackAnswer:  # noqa: ASYNC109
        """Wait for the bot to answer the callback query of the last press()."""
        query_id = self._last_query
        assert query_id is not None, "press() a callback button first"
        answers = self.chat.callback_answers

        def check() -> CallbackAnswer | None:
            return next((a for a in answers if a.query_id == query_id), None)

        return await self._wait(check, timeout, f"answerCallbackQuery for {query_id}")

    async def _wait(self, check: Callable[[], T | None], timeout: float, what: str) -> T:  # noqa: ASYNC109
        try:
            return await self.chat.signal.wait_until(check, timeout)
        except TimeoutError:
            texts = [m.text or m.caption for m in self.chat.bot_messages]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what} in chat {self.user_id}; "
                f"bot messages so far: {texts}"
            ) from None

    @property
    def messages(self) -> list[ChatMessage]:
        """All current bot messages in the chat (latest state, deleted ones excluded)."""
        return [m.snapshot() for m in self.chat.bot_messages]

    @property
    def last_message(self) -> ChatMessage:
        """The newest bot message (AssertionError if the bot has not written anything)."""
        messages = self.chat.bot_messages
        assert messages, f"the bot has sent nothing to chat {self.user_id}"
        return messages[-1].snapshot()

    @property
    def callback_answers(self) -> list[str | None]:
        """Texts of the bot's answers to this user's callback queries."""
        return [a.text for a in self.chat.callback_answers if a.user_id == self.user_id]


@dataclass
class _Failure:
    method: str
    error: FakeApiError
    times: int
    chat_ids: frozenset[int] | None = None


@dataclass
class HeldCalls:
    """Calls of a method to some chats, held before they are executed until ``release`` is set;
    ``held`` counts those waiting."""

    method: str
    chat_ids: frozenset[int]
    held: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Query:
    user_id: int
    chat_id: int
    created: float
    answered: bool = False


class FakeTelegramAPI:
    """A stateful Bot API server on 127.0.0.1 that the real aiogram ``Bot`` can talk to."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_first_name: str = "Test Bot",
        bot_username: str = "test_bot",
        callback_ttl: float = 15.0,
        webhook_attempts: int = 3,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 30.0,
        strict_chats: bool = False,
        validate_html: bool = True,
    ) -> None:
        self.token = token
        self.bot_user: JSONDict = {"id": int(token.split(":", 1)[0]), "is_bot": True}
        self.bot_user.update(first_name=bot_first_name, username=bot_username)
        self.callback_ttl = callback_ttl
        self.webhook_attempts = webhook_attempts
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.strict_chats = strict_chats
        self.validate_html = validate_html
        self.base_url = ""
        self.requests: list[tuple[str, Params]] = []
        self.request_times: list[float] = []  # time.monotonic() of each entry of `requests`
        # index in `requests` → the error it was answered with: (error_code, parameters)
        self.refusals: dict[int, tuple[int, JSONDict]] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        # chat id (None: the default of every private chat) → the MenuButton set for it
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.files: dict[str, StoredFile] = {}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self.webhook_max_connections = WEBHOOK_CONNECTIONS
        self.webhook_deliveries: list[tuple[int, int]] = []
        # Posts to the webhook at once, up to max_connections; each chat's updates in turn.
        self._connections = asyncio.Semaphore(WEBHOOK_CONNECTIONS)
        self._deliveries: dict[asyncio.Task[None], int | None] = {}  # → its chat
        self._chat_turns: dict[int | None, asyncio.Task[None]] = {}
        self._chats: dict[int, FakeChat] = {}
        self._users: dict[int, FakeUser] = {}
        self._queries: dict[str, _Query] = {}
        self._pending: list[JSONDict] = []
        self._allowed_updates: list[str] = []
        self._outbox: asyncio.Queue[JSONDict] = asyncio.Queue()
        self._updates_signal = _Signal()
        self._requests_signal = _Signal()
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_382_100_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._group_ids = itertools.count(13_000_000_000_000_001)
        self._poll_generation = 0
        self._blocked: set[int] = set()
        self._failures: list[_Failure] = []
        self._holds: list[HeldCalls] = []
        self._rate: tuple[float, int, int] | None = None  # window seconds, capacity, retry_after
        self._sent_at: deque[float] = deque()
        self._last_webhook_error: tuple[int, str] | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        self._methods: dict[str, tuple[str, MethodHandler]] = {}
        for name, handler in self._builtin_methods().items():
            self.register_method(name, handler)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> Self:
        """Start the HTTP server on a free loopback port and the webhook worker."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.webhook_timeout)
        )
        self._worker = asyncio.create_task(self._webhook_worker())
        return self

    async def close(self) -> None:
        """Stop the webhook worker and the server; release long polls and held calls."""
        self._closing = True
        self._updates_signal.notify()
        for held in self._holds:
            held.release.set()
        for task in [self._worker, *self._deliveries]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._worker = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ test API
    @property
    def bot_id(self) -> int:
        """The bot's user id (digits of the token)."""
        return int(self.bot_user["id"])

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "Anna",
        language_code: str | None = "ru",
        username: str | None = None,
    ) -> FakeUser:
        """Return the driver of a private chat with this user (created on first use)."""
        if user_id in self._users:
            return self._users[user_id]
        info: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        chat_info: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            info["username"] = chat_info["username"] = username
        if language_code:
            info["language_code"] = language_code
        self.chat(user_id).info = chat_info
        self._users[user_id] = FakeUser(self, info)
        return self._users[user_id]

    def chat(self, chat_id: int) -> FakeChat:
        """Return the chat state (an empty chat is created on first access)."""
        if chat_id not in self._chats:
            info: JSONDict = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
            if chat_id < 0:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                info = {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
            self._chats[chat_id] = FakeChat(chat_id, info)
        return self._chats[chat_id]

    def calls(self, method: str) -> list[Params]:
        """Params of every recorded call of ``method`` (case-insensitive)."""
        return [params for name, params in self.requests if name.lower() == method.lower()]

    async def wait_for_request(
        self,
        method: str,
        predicate: Callable[[Params], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Params:
        """Wait until a call of ``method`` (matching ``predicate``) has been recorded."""

        def check() -> Params | None:
            matches = (p for p in self.calls(method) if predicate is None or predicate(p))
            return next(matches, None)

        return await self._requests_signal.wait_until(check, timeout)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates queued for getUpdates and not yet confirmed."""
        return list(self._pending)

    def block(self, user_id: int) -> None:
        """Make every send/edit to this chat fail with 403 (bot blocked by the user)."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """Undo :meth:`block`."""
        self._blocked.discard(user_id)

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_ids: Iterable[int] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_ids`` only) with this error."""
        params = {"retry_after": retry_after} if retry_after is not None else None
        error = FakeApiError(error_code, description, params)
        chats = frozenset(chat_ids) if chat_ids is not None else None
        self._failures.append(_Failure(method.lower(), error, times, chats))

    def hold(self, method: str, chat_ids: Iterable[int]) -> HeldCalls:
        """Hold every call of ``method`` to these chats (a slow Telegram) until released."""
        held = HeldCalls(method.lower(), frozenset(chat_ids))
        self._holds.append(held)
        return held

    async def _maybe_hold(self, method: str, params: Params) -> None:
        for held in self._holds:
            if held.method == method.lower() and _int(params.get("chat_id")) in held.chat_ids:
                held.held += 1
                try:
                    await held.release.wait()
                finally:
                    held.held -= 1
                return

    def rate_limit(self, messages_per_second: float | None, retry_after: int = 1) -> None:
        """Limit send* calls globally (sliding window); ``None`` removes the limit."""
        if messages_per_second is None:
            self._rate = None
            return
        window = max(1.0, 1.0 / messages_per_second)
        self._rate = (window, max(1, int(messages_per_second * window)), retry_after)
        self._sent_at.clear()

    def register_method(self, name: str, handler: MethodHandler) -> None:
        """Add (or override) a Bot API method; the handler returns ``result`` or raises."""
        self._methods[name.lower()] = (name, handler)

    def enqueue_update(self, payload: JSONDict) -> int:
        """Queue an update (``{"message": {...}}`` etc.) for getUpdates or the webhook."""
        update = {"update_id": next(self._update_ids), **payload}
        if self.webhook_url:
            self._outbox.put_nowait(update)
        else:
            self._pending.append(update)
            self._updates_signal.notify()
        return int(update["update_id"])

    def register_query(self, user_id: int, chat_id: int) -> str:
        """Create a callback query id that answerCallbackQuery will accept once."""
        query_id = str(next(self._query_ids))
        self._queries[query_id] = _Query(user_id, chat_id, time.monotonic())
        return query_id

    async def wait_webhook_idle(self) -> None:
        """Wait until every queued webhook delivery has finished."""
        await self._outbox.join()

    # ------------------------------------------------------------------ HTTP layer
    async def _handle(self, request: web.Request) -> web.Response:
        try:
            params = await _read_params(request)
            result = await self.call(
                request.match_info["method"], params, request.match_info["token"]
            )
        except FakeApiError as error:
            return web.json_response(error.payload(), status=error.error_code)
        return web.json_response({"ok": True, "result": result})

    async def call(self, method: str, params: Params, token: str | None = None) -> Any:
        """Execute one Bot API method as the server would; raise FakeApiError on errors."""
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        self.requests.append((name, params))
        self.request_times.append(time.monotonic())
        index = len(self.requests) - 1
        self._requests_signal.notify()
        try:
            if TOKEN_RE.match(token or self.token) is None:
                raise FakeApiError(401, "Unauthorized")
            if entry is None:
                raise FakeApiError(404, "Not Found: method not found")
            self._check_injected(name, params)
            await self._maybe_hold(name, params)
            return await entry[1](params)
        except FakeApiError as error:
            self.refusals[index] = (error.error_code, dict(error.parameters))
            raise

    def _check_injected(self, method: str, params: Params) -> None:
        for failure in self._failures:
            if failure.method == method.lower() and (
                failure.chat_ids is None or _int(params.get("chat_id")) in failure.chat_ids
            ):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise failure.error
        if method.startswith(("send", "edit")) and _int(params.get("chat_id")) in self._blocked:
            raise FakeApiError(403, BLOCKED)
        if self._rate and method.startswith("send") and method not in _NO_LIMIT_METHODS:
            window, capacity, retry_after = self._rate
            now = time.monotonic()
            while self._sent_at and self._sent_at[0] <= now - window:
                self._sent_at.popleft()
            if len(self._sent_at) >= capacity:
                text = f"Too Many Requests: retry after {retry_after}"
                raise FakeApiError(429, text, {"retry_after": retry_after})
            self._sent_at.append(now)

    # ------------------------------------------------------------------ helpers
    def _target_chat(self, params: Params) -> FakeChat:
        raw = params.get("chat_id")
        chat_id = _int(raw)
        if chat_id is None:
            raise (
                bad_request("chat_id is empty")
                if raw in (None, "")
                else FakeApiError(400, CHAT_NOT_FOUND)
            )
        if self.strict_chats and chat_id not in self._chats:
            raise FakeApiError(400, CHAT_NOT_FOUND)
        return self.chat(chat_id)

    def _render(self, text: str, params: Params, prefix: str = "") -> str:
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html" and self.validate_html and not params.get(f"{prefix}entities"):
            return _parse_html(text)
        return text

    def _text(self, params: Params) -> tuple[str, str]:
        source = str(params.get("text") or "")
        text = self._render(source, params)
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > 4096:
            raise bad_request("message is too long")
        return source, text

    def _caption(self, params: Params) -> tuple[str | None, str | None]:
        source = params.get("caption")
        if not source:
            return None, None
        caption = self._render(str(source), params, "caption_")
        if len(caption) > 1024:
            raise bad_request("message caption is too long")
        return str(source), caption

    def _file(self, value: Any, params: Params) -> StoredFile:
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, StoredFile) and not value.file_id:
            if not value.data:
                raise bad_request("file must be non-empty")
            return self._store(value.filename, value.data, value.content_type)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._store(value.rsplit("/", 1)[-1] or "file", b"", "")
        raise FakeApiError(400, WRONG_FILE)

    def _store(self, filename: str, data: bytes, content_type: str) -> StoredFile:
        number = next(self._file_ids)
        guessed = mimetypes.guess_type(filename)[0]
        mime = guessed or content_type or "application/octet-stream"
        stored = StoredFile(filename, data, mime, f"FAKE-FILE-{number:06d}", f"U{number:06d}")
        self.files[stored.file_id] = stored
        return stored

    def _deliver(
        self, chat: FakeChat, markup: JSONDict | None, stored: tuple[str, StoredFile] | None = None,
        **fields: Any,
    ) -> ChatMessage:  # fmt: skip
        extra: JSONDict = {}
        if stored is not None:
            kind, file = stored
            if kind == "photo":
                extra["photo"] = [_photo_size(file)]
                fields["photos"] = [file.data]
            else:
                extra[kind] = {"file_id": file.file_id, "file_unique_id": file.file_unique_id,
                               "file_name": file.filename, "mime_type": file.content_type,
                               "file_size": len(file.data), "width": 1, "height": 1,
                               "duration": 1}  # fmt: skip
                fields["documents"] = [(file.filename, file.data)]
        msg = chat.add(self.bot_user, from_bot=True, reply_markup=markup, extra=extra, **fields)
        if markup is not None and ("keyboard" in markup or "remove_keyboard" in markup):
            chat.reply_keyboard = markup if "keyboard" in markup else None
        chat.emit("new", msg)
        return msg

    def _editable(self, params: Params) -> tuple[FakeChat, ChatMessage] | None:
        if params.get("inline_message_id"):
            return None
        chat = self._target_chat(params)
        msg = chat.get(_int(params.get("message_id")))
        if msg is None or msg.deleted:
            raise FakeApiError(400, EDIT_NOT_FOUND)
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return chat, msg

    def _finish_edit(
        self, chat: FakeChat, msg: ChatMessage, changed: bool, **updates: Any
    ) -> JSONDict:
        if not changed:
            raise FakeApiError(400, NOT_MODIFIED)
        for name, value in updates.items():
            setattr(msg, name, value)
        msg.edited = True
        msg.extra["edit_date"] = int(time.time())
        chat.emit("edit", msg)
        return msg.to_dict()

    def _update_allowed(self, update: JSONDict, allowed: list[str] | None) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        return kind in allowed if allowed else kind not in _NOT_DEFAULT_UPDATES

    # ------------------------------------------------------------------ methods
    def _builtin_methods(self) -> dict[str, MethodHandler]:
        return {
            "getMe": self._get_me, "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook, "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info, "sendMessage": self._send_message,
            "editMessageText": self._edit_text,
            "editMessageReplyMarkup": self._edit_markup, "answerCallbackQuery": self._answer_query,
            "sendPhoto": partial(self._send_file, kind="photo"),
            "sendDocument": partial(self._send_file, kind="document"),
            "sendMediaGroup": self._send_media_group, "deleteMessage": self._delete_message,
            "setMyCommands": self._set_commands, "getMyCommands": self._get_commands,
            "sendChatAction": self._chat_action,
            "setChatMenuButton": self._set_menu_button, "getChatMenuButton": self._get_menu_button,
        }  # fmt: skip

    async def _get_me(self, params: Params) -> JSONDict:
        return {**self.bot_user, "can_join_groups": True, "supports_inline_queries": False}

    async def _get_updates(self, params: Params) -> list[JSONDict]:
        if self.webhook_url:
            raise FakeApiError(409, CONFLICT_WEBHOOK)
        offset = _int(params.get("offset"))
        if offset is not None:
            keep = self._pending[offset:] if offset < 0 else self._pending
            self._pending = [u for u in keep if offset < 0 or u["update_id"] >= offset]
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
        limit = min(max(_int(params.get("limit")) or 100, 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify()

        def check() -> list[JSONDict] | None:
            if self._closing:
                return []
            if generation != self._poll_generation:
                raise FakeApiError(409, CONFLICT_POLLING)
            if self.webhook_url:
                raise FakeApiError(409, CONFLICT_WEBHOOK)
            allowed = self._allowed_updates
            self._pending = [u for u in self._pending if self._update_allowed(u, allowed)]
            return self._pending[:limit] or None

        try:
            return await self._updates_signal.wait_until(check, _float(params.get("timeout")))
        except TimeoutError:
            return []

    async def _set_webhook(self, params: Params) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params)
        if not url.startswith(("http://", "https://")):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = str(params["secret_token"]) if params.get("secret_token") else None
        if secret is not None and len(secret) > SECRET_MAX_LENGTH:
            raise bad_request("secret token is too long")
        if secret is not None and not SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        self.webhook_url = url
        self.webhook_secret = secret
        connections = params.get("max_connections")
        if connections is not None:  # 1-100 (the Bot API's documented range)
            self.webhook_max_connections = min(max(int(str(connections)), 1), 100)
            self._connections = asyncio.Semaphore(self.webhook_max_connections)
        if isinstance(params.get("allowed_updates"), list):
            self.webhook_allowed_updates = [str(kind) for kind in params["allowed_updates"]]
        pending, self._pending = self._pending, []
        if not _flag(params.get("drop_pending_updates")):
            for update in pending:
                self._outbox.put_nowait(update)
        self._updates_signal.notify()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self.webhook_url = self.webhook_secret = None
        if _flag(params.get("drop_pending_updates")):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: Params) -> JSONDict:
        info: JSONDict = {"url": self.webhook_url or "", "has_custom_certificate": False}
        info["pending_update_count"] = (
            self._outbox.qsize() if self.webhook_url else len(self._pending)
        )
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self.webhook_allowed_updates:
                info["allowed_updates"] = list(self.webhook_allowed_updates)
            if self._last_webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info

    async def _send_message(self, params: Params) -> JSONDict:
        chat = self._target_chat(params)
        source, text = self._text(params)
        markup = _markup(params)
        return self._deliver(chat, markup, text=text, source=source).to_dict()

    async def _send_file(self, params: Params, kind: str) -> JSONDict:
        chat = self._target_chat(params)
        if params.get(kind) is None:
            raise bad_request(f"there is no {kind} in the request")
        file = self._file(params[kind], params)
        source, caption = self._caption(params)
        markup = _markup(params)
        return self._deliver(chat, markup, (kind, file), caption=caption, source=source).to_dict()

    async def _send_media_group(self, params: Params) -> list[JSONDict]:
        chat = self._target_chat(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media items")
        items = []
        for item in media:
            if not isinstance(item, dict):
                raise bad_request("can't parse InputMedia JSON object")
            kind = "photo" if item.get("type", "photo") == "photo" else str(item["type"])
            items.append((kind, self._file(item.get("media"), params), *self._caption(item)))
        group_id = str(next(self._group_ids))
        return [
            self._deliver(chat, None, (kind, file), caption=caption, source=source,
                          media_group_id=group_id).to_dict()
            for kind, file, source, caption in items
        ]  # fmt: skip

    async def _edit_text(self, params: Params) -> JSONDict | bool:
        target = self._editable(params)
        if target is None:
            return True
        chat, msg = target
        source, text = self._text(params)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        markup = _markup(params)
        changed = source != msg.source or markup != _inline(msg.reply_markup)
        return self._finish_edit(chat, msg, changed, text=text, source=source, reply_markup=markup)

    async def _edit_markup(self, params: Params) -> JSONDict | bool:
        target = self._editable(params)
        if target is None:
            return True
        chat, msg = target
        markup = _markup(params)
        changed = markup != _inline(msg.reply_markup)
        return self._finish_edit(chat, msg, changed, reply_markup=markup)

    async def _answer_query(self, params: Params) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._queries.get(query_id)
        if query is None or query.answered or time.monotonic() - query.created > self.callback_ttl:
            raise FakeApiError(400, QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        url = str(params["url"]) if params.get("url") else None
        answer = CallbackAnswer(query_id, query.user_id, str(text) if text else None,
                                _flag(params.get("show_alert")), url)  # fmt: skip
        chat = self.chat(query.chat_id)
        chat.callback_answers.append(answer)
        chat.signal.notify()
        return True

    async def _delete_message(self, params: Params) -> bool:
        chat = self._target_chat(params)
        msg = chat.get(_int(params.get("message_id")))
        if msg is None or msg.deleted:
            raise FakeApiError(400, DELETE_NOT_FOUND)
        msg.deleted = True
        chat.emit("delete", msg)
        return True

    async def _set_commands(self, params: Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        self.commands[_commands_key(params)] = [dict(c) for c in commands]
        return True

    async def _get_commands(self, params: Params) -> list[JSONDict]:
        return list(self.commands.get(_commands_key(params), []))

    async def _set_menu_button(self, params: Params) -> bool:
        chat_id = self._target_chat(params).id if params.get("chat_id") is not None else None
        button = params.get("menu_button")
        if button is None:
            button = {"type": "default"}
        if not isinstance(button, dict):
            raise bad_request("can't parse menu button JSON object")
        kind = button.get("type")
        if kind == "web_app":
            web_app = button.get("web_app")
            url = web_app.get("url") if isinstance(web_app, dict) else None
            _check_web_app_url("menu button", url)
            button = {"type": "web_app", "text": str(button.get("text") or ""),
                      "web_app": {"url": url}}  # fmt: skip
        elif kind in ("default", "commands"):
            button = {"type": kind}
        else:
            raise bad_request("unsupported menu button type")
        self.menu_buttons[chat_id] = button
        return True

    async def _get_menu_button(self, params: Params) -> JSONDict:
        chat_id = self._target_chat(params).id if params.get("chat_id") is not None else None
        button = self.menu_buttons.get(chat_id) or self.menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "default"})

    async def _chat_action(self, params: Params) -> bool:
        chat = self._target_chat(params)
        chat.actions.append(str(params.get("action") or ""))
        return True

    # ------------------------------------------------------------------ webhook
    async def _webhook_worker(self) -> None:
        """Hand each queued update to a delivery of its own: up to `max_connections` posts at
        once, as Telegram makes them, but a chat's next update only after its last one."""
        while True:
            update = await self._outbox.get()
            chat = _chat_of(update)
            task = asyncio.create_task(self._deliver_in_turn(update, self._chat_turns.get(chat)))
            self._chat_turns[chat] = task
            self._deliveries[task] = chat
            task.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task[None]) -> None:
        """Forget a finished delivery (and its chat's turn, if no later update took it)."""
        chat = self._deliveries.pop(task, None)
        if self._chat_turns.get(chat) is task:
            del self._chat_turns[chat]

    async def _deliver_in_turn(self, update: JSONDict, before: asyncio.Task[None] | None) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])
            async with self._connections:
                await self._post_update(update)
        except Exception as exc:  # noqa: BLE001 - keep delivering the next updates
            self._last_webhook_error = (int(time.time()), f"fake webhook failure: {exc!r}")
        finally:
            self._outbox.task_done()

    async def _post_update(self, update: JSONDict) -> None:
        url = self.webhook_url
        if not url:  # the webhook was removed meanwhile: back to getUpdates
            self._pending.append(update)
            self._updates_signal.notify()
            return
        if not self._update_allowed(update, self.webhook_allowed_updates) or self._client is None:
            return
        headers = {SECRET_HEADER: self.webhook_secret} if self.webhook_secret else {}
        for attempt in range(self.webhook_attempts):
            if attempt:
                await asyncio.sleep(self.webhook_retry_delay)
            status, error = 0, ""
            try:
                async with self._client.post(url, json=update, headers=headers) as resp:
                    status = resp.status
                    if 200 <= status < 300:
                        self.webhook_deliveries.append((status, int(update["update_id"])))
                        await self._reply_into_webhook(resp)
                        return
                    error = f"Wrong response from the webhook: {status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {exc!r}"
            self.webhook_deliveries.append((status, int(update["update_id"])))
            self._last_webhook_error = (int(time.time()), error)

    async def _reply_into_webhook(self, resp: aiohttp.ClientResponse) -> None:
        params: Params = {}
        if resp.content_type.startswith("multipart/"):
            reader = aiohttp.MultipartReader(resp.headers, resp.content)
            while (part := await reader.next()) is not None:
                if isinstance(part, aiohttp.BodyPartReader) and part.name:
                    data = bytes(await part.read(decode=True))
                    params[part.name] = (
                        StoredFile(part.filename, data, "application/octet-stream")
                        if part.filename
                        else data.decode()
                    )
        elif resp.content_type == "application/json":
            body = await resp.json()
            params = body if isinstance(body, dict) else {}
        method = params.pop("method", None)
        if isinstance(method, str):
            with contextlib.suppress(FakeApiError):
                await self.call(method, _decode_params(params))


# ---------------------------------------------------------------------- module helpers
def _chat_of(update: JSONDict) -> int | None:
    """The chat an update belongs to (a callback's message's chat, or its sender)."""
    for key, event in update.items():
        if key == "update_id" or not isinstance(event, dict):
            continue
        message = event.get("message") if "chat" not in event else event
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return int(message["chat"]["id"])
        if isinstance(event.get("from"), dict):
            return int(event["from"]["id"])
    return None


async def _read_params(request: web.Request) -> Params:
    raw: Params = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if isinstance(body, dict):
                raw.update(body)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    filename = value.filename or key
                    raw[key] = StoredFile(filename, value.file.read(), value.content_type)
                else:
                    raw[key] = value
    return _decode_params(raw)


def _decode_params(raw: Params) -> Params:
    decoded: Params = {}
    for key, value in raw.items():
        item = value.decode() if isinstance(value, bytes | bytearray) else value
        if key in _JSON_FIELDS and isinstance(item, str):
            with contextlib.suppress(ValueError):
                item = json.loads(item)
        decoded[key] = item
    return decoded


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float:
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 0.0


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in {"true", "1"}


def _inline(markup: JSONDict | None) -> JSONDict | None:
    return markup if markup is not None and "inline_keyboard" in markup else None


def _markup(params: Params) -> JSONDict | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            if "web_app" in button:
                web_app = button["web_app"]
                url = web_app.get("url") if isinstance(web_app, dict) else None
                _check_web_app_url("inline keyboard button", url)
            if len(button) < 2:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
    return markup


def _check_web_app_url(where: str, url: Any) -> None:
    """Refuse a Web App URL as Telegram does: it must be an HTTPS link with a host."""
    if not isinstance(url, str) or not url:
        raise bad_request(f"{where} Web App URL '' is invalid: URL host is empty")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "https":
        raise bad_request(f"{where} Web App URL '{url}' is invalid: {ONLY_HTTPS}")
    if not parts.hostname:
        raise bad_request(f"{where} Web App URL '{url}' is invalid: URL host is empty")


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.get("scope")
    scope = scope if isinstance(scope, dict) else {}
    parts = [str(scope.get("type", "default"))]
    parts += [str(scope[key]) for key in ("chat_id", "user_id") if key in scope]
    return ":".join(parts), str(params.get("language_code") or "")


def _photo_size(file: StoredFile) -> JSONDict:
    width = height = 100
    if file.data[:8] == b"\x89PNG\r\n\x1a\n" and len(file.data) >= 24:
        width, height = struct.unpack(">II", file.data[16:24])
    return {"file_id": file.file_id, "file_unique_id": file.file_unique_id, "width": width,
            "height": height, "file_size": len(file.data)}  # fmt: skip


def _parse_html(text: str) -> str:
    """Validate Telegram HTML like the server does and return the plain text."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        out.append(html.unescape(text[pos:start]))
        offset = len(text[:start].encode())
        match = _TAG_RE.match(text, start)
        if match is None:
            raise bad_request(
                f"can't parse entities: Unexpected end of name token at byte offset {offset}"
            )
        name = match.group(2).lower()
        if match.group(1):
            if not stack or stack[-1] != name:
                raise bad_request(
                    f"can't parse entities: Unexpected end tag at byte offset {offset}"
                )
            stack.pop()
        elif name not in _HTML_TAGS:
            raise bad_request(
                f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
            )
        else:
            stack.append(name)
        pos = match.end()
    out.append(html.unescape(text[pos:]))
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)
