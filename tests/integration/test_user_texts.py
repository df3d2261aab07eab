"""A language's first update or note: its texts are built before they are needed, off the loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import UserMiddleware
from bot.outbox_delivery import TelegramDelivery
from payments import i18n
from payments.catalog import load_catalog
from payments.outbox.notes import note_deliverers, to_payload
from payments.outbox.outcomes import Envelope, Sent
from payments.ports import LogNotifier, PaymentCanceled, Recipient, SubscriptionEnded
from tests.conftest import MovableClock
from tests.fakes.telegram_api import FakeTelegramAPI


@contextmanager
def no_texts_built() -> Iterator[None]:
    """As in a service that has spoken no language yet; the built texts come back afterwards."""
    kept = dict(i18n._BUILT)
    i18n._BUILT.clear()
    try:
        yield
    finally:
        i18n._BUILT.clear()
        i18n._BUILT.update(kept)


async def test_the_first_update_in_a_language_finds_its_texts_built(
    sessionmaker: async_sessionmaker[AsyncSession], clock: MovableClock
) -> None:
    middleware = UserMiddleware(sessionmaker, clock, frozenset(), frozenset())
    seen: dict[str, Any] = {}

    async def handler(event: TelegramObject, data: dict[str, Any]) -> None:
        seen["language"] = data["user"].language
        seen["ready"] = i18n.ready(data["user"].language)

    customer = User(id=700_301, is_bot=False, first_name="Ann", language_code="en-GB")
    with no_texts_built():  # a service that has not spoken English yet
        await middleware(handler, customer, {"event_from_user": customer})
    # Built by the middleware (in a worker thread, tests/unit/test_i18n.py), not by the
    # handler's first t() on the event loop.
    assert seen == {"language": "en", "ready": True}


async def test_first_updates_arriving_together_build_their_texts_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: MovableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A sale's first customers, or the notifications after a restart: their language's texts
    # are built once, not once per update in a worker thread each (every build held the GIL,
    # and the loop, for tens of milliseconds).
    middleware = UserMiddleware(sessionmaker, clock, frozenset(), frozenset())
    seen: list[bool] = []

    async def handler(event: TelegramObject, data: dict[str, Any]) -> None:
        seen.append(i18n.ready(data["user"].language))

    customers = [
        User(id=700_310 + n, is_bot=False, first_name="Ann", language_code="en") for n in range(8)
    ]
    i18n._resource.cache_clear()  # as in a fresh process: the files are read, not remembered
    with no_texts_built(), caplog.at_level(logging.INFO, logger="payments.i18n"):
        await asyncio.gather(*(middleware(handler, c, {"event_from_user": c}) for c in customers))
    builds = [r.getMessage() for r in caplog.records if r.name == "payments.i18n"]
    assert seen == [True] * 8
    assert len(builds) == 1, builds
    assert builds[0].startswith("texts of en built in")


class ReadyRecorder:
    """A notifier that notes whether the recipient's texts were built when it was called."""

    def __init__(self) -> None:
        self.ready: list[bool] = []

    async def payment_canceled(self, note: PaymentCanceled) -> None:
        self.ready.append(i18n.ready(note.recipient.language))


async def test_the_lanes_first_note_in_a_language_finds_its_texts_built() -> None:
    notifier = ReadyRecorder()
    deliver = note_deliverers(notifier)["payment_canceled"]  # type: ignore[arg-type]
    note = PaymentCanceled(Recipient("700302", "en"), payment_id="p-1", reason="expired")
    envelope = Envelope(
        id=1, kind="payment_canceled", chat_id=700302, payload=to_payload(note), attempts=0
    )
    with no_texts_built():
        assert await deliver(envelope) == Sent()
    assert notifier.ready == [True]


async def test_the_bots_first_note_in_a_language_builds_its_texts_off_the_loop(
    bot: Bot,
    telegram: FakeTelegramAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a restart the first confirmation in a language may come before any update in it:
    its texts are built in a worker thread, not in the notifier's first t() on the loop."""
    delivery = TelegramDelivery(
        bot=bot, catalog=load_catalog(), tz=ZoneInfo("Europe/Moscow"), sessionmaker=sessionmaker
    )
    note = SubscriptionEnded(Recipient("700303", "en"))
    envelope = Envelope(
        id=1, kind="subscription_ended", chat_id=700303, payload=to_payload(note), attempts=0
    )
    with no_texts_built(), caplog.at_level(logging.INFO, logger="payments.i18n"):
        assert await delivery.deliverers()["subscription_ended"](envelope) == Sent()
    builds = [r for r in caplog.records if r.getMessage().startswith("texts of en built")]
    assert [r.threadName for r in builds] != [threading.current_thread().name]
    assert len(builds) == 1
    [(method, params)] = telegram.requests
    assert method.lower() == "sendmessage"
    assert str(params["text"]) == i18n.t("en", "subscription_ended")


async def test_notes_the_bot_only_logs_build_no_texts() -> None:
    """With the bot off the lane only logs its notes: no language's texts are built for them."""
    deliver = note_deliverers(LogNotifier())["payment_canceled"]
    note = PaymentCanceled(Recipient("700304", "en"), payment_id="p-2", reason="expired")
    envelope = Envelope(
        id=2, kind="payment_canceled", chat_id=700304, payload=to_payload(note), attempts=0
    )
    with no_texts_built():
        assert await deliver(envelope) == Sent()
        assert not i18n.ready("en")
