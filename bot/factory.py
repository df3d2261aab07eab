"""Factories for the Bot and the Dispatcher, shared by production and tests."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any, ClassVar

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiohttp import FormData
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.isolation import ForgetfulEventIsolation
from bot.known_keyboards import KnownKeyboards
from bot.middlewares import UpdateMetrics, UserMiddleware
from bot.request_body import json_body
from bot.texts import DEFAULT, languages, plain
from bot.webapp import openable, set_menu_button
from payments.loop_turns import Crowd
from payments.outbox.budget import CHARGE, Budget, Grant
from payments.ports import Clock

log = logging.getLogger(__name__)

COMMANDS = ("start", "tickets", "subscribe", "my", "language", "help", "cancel")
MAX_RETRY_AFTER_SECONDS = 30
# Off inside the outbox's deliveries: a 429 goes back to the lane, which reschedules only that
# message instead of holding one of its delivery slots asleep for retry_after.
WAIT_ON_RETRY_AFTER: ContextVar[bool] = ContextVar("wait_on_retry_after", default=True)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Honour Telegram's 429 `retry_after` a bounded number of times before giving up."""

    def __init__(self, attempts: int = 3) -> None:
        """Retry at most `attempts` times per request."""
        self._attempts = attempts

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Send the request, sleeping and retrying when Telegram asks to wait."""
        for attempt in range(self._attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if (
                    attempt == self._attempts
                    or exc.retry_after > MAX_RETRY_AFTER_SECONDS
                    or not WAIT_ON_RETRY_AFTER.get()
                ):
                    raise
                log.info("telegram asked to wait %ss on %s", exc.retry_after, type(method).__name__)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover


# The Bot API methods that put a message in a chat or change one: each takes a token of the
# instance's budget. Telegram's limits are on messages (about 30 a second overall, one a second
# per chat), and edits are throttled the same way in practice. Answers to callback and
# pre-checkout queries put no message in a chat (and a pre-checkout answer is due within 10 s),
# chat actions neither: those are not charged.
BUDGETED_PREFIXES = ("send", "edit", "copyMessage", "forwardMessage")
UNBUDGETED = frozenset({"sendChatAction"})


def budgeted(method: TelegramMethod[Any]) -> bool:
    """Say whether a Bot API call sends or edits a message (and so takes a token)."""
    name = method.__api_method__
    return name.startswith(BUDGETED_PREFIXES) and name not in UNBUDGETED


class BudgetMiddleware(BaseRequestMiddleware):
    """Charge every message the bot sends or edits to the instance's `Budget`.

    A direct answer (no lane delivery in the context) goes through `Budget.answer`: ahead of a
    broadcast being sent, at most ANSWER_PATIENCE late, else at once and counted. Inside a lane
    delivery the first call was paid by the lane; the calls after it (a confirmation's QR
    album) wait for tokens at the delivery's own priority. A token's send is marked answered
    when its call returns (or fails): its message has reached Telegram by then, which the
    budget's window needs to know (`Grant.answered`).
    """

    def __init__(self, budget: Budget) -> None:
        """Charge every message to `budget`."""
        self._budget = budget

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Charge a message to the budget (a lane delivery's waits its turn), then send it."""
        if not budgeted(method):
            return await make_request(bot, method)
        charge = CHARGE.get()
        grant: Grant | None = None
        if charge is None:
            grant = await self._budget.answer()  # a direct answer: ahead of a broadcast, or at once
        elif charge.prepaid > 0:
            charge.prepaid -= 1
            if charge.grants:
                grant = charge.grants.pop(0)
        else:
            (grant,) = await self._budget.take(urgent=charge.urgent)
        if grant is None:
            return await make_request(bot, method)
        grant.sent()
        try:
            return await make_request(bot, method)
        finally:
            grant.answered()  # the message has arrived by now, if it ever will


class PinnedResponseSession(AiohttpSession):
    """aiogram's session, keeping each parametrized `Response[...]` model alive (and posting
    calls without files as JSON, `bot.request_body`).

    aiogram writes `Response[method.__returning__]` on every call, and pydantic caches
    parametrized models in a WeakValueDictionary. A model class sits in reference cycles, so
    each run of the garbage collector drops it and the next call builds the model again,
    about 7 ms each time: `make bench` counted 66 rebuilds in 2000 updates. Holding a strong
    reference per return type makes the cache hit every time.
    """

    _pinned: ClassVar[dict[Any, type[Response[Any]]]] = {}

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        """Pin the response model of this method's return type, then check as aiogram does."""
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> FormData:
        """Send a call without files as one JSON body (`bot.request_body`), else as a form."""
        return json_body(bot, method) or super().build_form_data(bot, method)


def create_bot(token: str, api_base: str) -> Bot:
    """Create the Bot against the Bot API server at `api_base`.

    Its session reads answers and updates with each inline keyboard validated once
    (`bot.known_keyboards`) and posts calls without files as JSON (`bot.request_body`).
    """
    keyboards = KnownKeyboards()
    session = PinnedResponseSession(
        api=TelegramAPIServer.from_base(api_base), json_loads=keyboards.loads
    )
    session.middleware(RetryAfterMiddleware())
    keyboards.bot = Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )
    return keyboards.bot


def create_dispatcher(
    *,
    routers: list[Router],
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    admin_ids: frozenset[int],
    test_ids: frozenset[str],
    staff_ids: frozenset[int] = frozenset(),
    storage: BaseStorage | None = None,
    isolation: BaseEventIsolation | None = None,
    webapp_url: str | None = None,
    crowd: Crowd | None = None,
    **services: Any,
) -> Dispatcher:
    """Create the Dispatcher with the user middleware, the routers and the services as DI.

    `webapp_url` is the Mini App's public address: the menu button opens it, and the main
    menu offers it as `shop_url` when Telegram takes it (HTTPS). Each update counts in `crowd`
    while it is handled (payments/loop_turns.py: notifications yield to a crowd).
    """
    dispatcher = Dispatcher(
        storage=storage or MemoryStorage(),
        events_isolation=isolation or ForgetfulEventIsolation(),
        sessionmaker=sessionmaker,
        clock=clock,
        webapp_url=webapp_url,
        shop_url=openable(webapp_url),
        **services,
    )
    dispatcher.update.outer_middleware(UpdateMetrics(crowd))
    dispatcher.update.outer_middleware(
        UserMiddleware(
            sessionmaker, clock, admin_ids=admin_ids, test_ids=test_ids, staff_ids=staff_ids
        )
    )
    dispatcher.include_routers(*routers)
    dispatcher.startup.register(register_commands)
    dispatcher.startup.register(set_menu_button)
    return dispatcher


async def register_commands(bot: Bot) -> None:
    """Register the command list in every language; the default list (no language) is ru.

    The descriptions are plain texts, read without building the languages' bundles (and
    loading Babel's locale data): that waits for the first customer in each language.
    """
    for language_code, lang in ((None, DEFAULT), *((lang, lang) for lang in languages())):
        commands = [BotCommand(command=c, description=plain(lang, f"cmd_{c}")) for c in COMMANDS]
        await bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=language_code
        )
