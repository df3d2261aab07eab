"""The sending lane on a migrated database, delivering through the real Bot to the local Telegram.

What a customer (or the shop owner) would notice: every message arrives once, a 429 on one
chat holds back only that chat, no chat gets more than one message a second, confirmations
overtake a broadcast, blocked users are marked and given-up messages are logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import BudgetMiddleware, create_bot
from bot.outbox_delivery import TelegramDelivery, outcome_of
from db.engine import create_engine, create_sessionmaker
from db.models import User
from db.models_outbox import OutboxMessage
from payments.catalog import load_catalog
from payments.i18n import prepare
from payments.outbox.budget import Budget
from payments.outbox.lane import SendingLane
from payments.outbox.notes import enqueue_note, enqueue_tickets
from payments.outbox.outcomes import Deliver, Envelope, Outcome, Sent
from payments.outbox.store import PRIORITY_BROADCAST, enqueue
from payments.ports import IssuedTicket, Recipient, SubscriptionEnded, TicketsIssued
from tests.fakes.telegram_api import FakeTelegramAPI, busiest_second
from tests.outbox_kit import enqueue_many

SHOP_TZ = ZoneInfo("Europe/Moscow")
ENDED_RU = "подписка"  # a word of the "subscription ended" text, to tell it from broadcasts


def broadcast_deliverer(bot: Bot) -> Deliver:
    """A plain text message, as the broadcast deliverer sends it."""

    async def deliver(envelope: Envelope) -> Outcome:
        assert envelope.chat_id is not None
        try:
            await bot.send_message(envelope.chat_id, str(envelope.payload["text"]))
        except TelegramAPIError as exc:
            return outcome_of(exc, envelope.attempts)
        return Sent()

    return deliver


def make_lane(
    sessionmaker: async_sessionmaker[AsyncSession],
    bot: Bot,
    budget: Budget | None = None,
    **options: float,
) -> SendingLane:
    """A lane as the service wires it: the bot's deliverers for notes, and plain broadcasts."""
    lane = SendingLane(
        sessionmaker,
        poll_seconds=0.05,
        budget=budget,
        **options,  # type: ignore[arg-type]
    )
    bot.session.middleware(BudgetMiddleware(lane.budget))
    delivery = TelegramDelivery(
        bot=bot, catalog=load_catalog(), tz=SHOP_TZ, sessionmaker=sessionmaker
    )
    for kind, deliver in delivery.deliverers().items():
        lane.register(kind, deliver)
    lane.register("broadcast", broadcast_deliverer(bot))
    return lane


async def add_users(sessionmaker: async_sessionmaker[AsyncSession], ids: Sequence[int]) -> None:
    async with sessionmaker.begin() as session:
        session.add_all([User(id=str(uid), first_name="A", language="ru") for uid in ids])


async def tell_ended(sessionmaker: async_sessionmaker[AsyncSession], ids: Sequence[int]) -> None:
    """Write a transactional note (the subscription ended) for each chat, as the sweep does."""
    async with sessionmaker.begin() as session:
        for uid in ids:
            note = SubscriptionEnded(Recipient(str(uid), "ru"))
            await enqueue_note(session, note, dedupe_key=None)


async def broadcast(
    sessionmaker: async_sessionmaker[AsyncSession], ids: Sequence[int], text: str = "news"
) -> None:
    rows = [
        {
            "kind": "broadcast",
            "payload": {"text": f"{text} {uid}"},
            "chat_id": uid,
            "priority": PRIORITY_BROADCAST,
            "broadcast_id": 1,
            "dedupe_key": f"bc:1:{uid}",
        }
        for uid in ids
    ]
    async with sessionmaker.begin() as session:
        assert await enqueue_many(session, rows) == len(rows)


def sends(telegram: FakeTelegramAPI, chat_id: int | None = None) -> list[tuple[float, int, str]]:
    """(time, chat, text) of every sendMessage Telegram accepted, in order."""
    found = []
    for index, (method, params) in enumerate(telegram.requests):
        if method.lower() != "sendmessage" or index in telegram.refusals:
            continue
        chat = int(params["chat_id"])
        if chat_id is None or chat == chat_id:
            found.append((telegram.request_times[index], chat, str(params.get("text", ""))))
    return found


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until `check()` holds (what a user would see eventually), failing after `timeout`."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - the fake's state is polled, as a user would look
            await asyncio.sleep(0.02)


async def rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        found = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(found.scalars())


async def test_a_429_on_some_chats_does_not_hold_back_the_others(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    limited = list(range(5001, 5021))  # more chats than deliveries in flight at once (16)
    others = list(range(6001, 6021))
    await add_users(sessionmaker, limited + others)
    await tell_ended(sessionmaker, limited)
    await tell_ended(sessionmaker, others)
    # Each limited chat's first send is refused, whatever order the sends in flight arrive in.
    telegram.fail_next(
        "sendMessage",
        429,
        "Too Many Requests: retry after 5",
        retry_after=5,
        times=len(limited),
        chat_ids=limited,
    )
    lane = make_lane(sessionmaker, bot, rate=100.0)
    started = time.monotonic()
    lane.start()
    try:
        # Everyone else hears well before the limited chats' 5 s are over (about half a second
        # on an idle machine; a lane held back by the 429s would send nothing for 5 s).
        try:
            await until(lambda: {c for _, c, _ in sends(telegram)} >= set(others), timeout=4.5)
        except TimeoutError:
            heard = sorted({c for _, c, _ in sends(telegram)} & set(others))
            statuses = Counter(row.status for row in await rows(sessionmaker))
            times = [round(a - started, 2) for a, _, _ in sends(telegram)]
            raise AssertionError(
                f"{len(heard)} of {len(others)} heard in {time.monotonic() - started:.1f} s; "
                f"rows {dict(statuses)}; sends at {times}"
            ) from None
        assert not any(chat in limited for _, chat, _ in sends(telegram))
        await until(lambda: len(sends(telegram)) == len(limited) + len(others), timeout=20)
    finally:
        await lane.stop()
    for at, chat, _ in sends(telegram):
        if chat in limited:
            assert at - started >= 5  # retry_after was honoured for that chat
    assert Counter(chat for _, chat, _ in sends(telegram)) == dict.fromkeys(limited + others, 1)
    statuses = Counter(row.status for row in await rows(sessionmaker))
    assert statuses == {"sent": len(limited) + len(others)}


async def test_a_chat_gets_at_most_one_message_a_second(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    await add_users(sessionmaker, [5101, 5102])
    for _ in range(4):
        await tell_ended(sessionmaker, [5101])
    await tell_ended(sessionmaker, [5102])
    lane = make_lane(sessionmaker, bot, rate=100.0)
    lane.start()
    try:
        await until(lambda: len(sends(telegram)) == 5, timeout=10)
    finally:
        await lane.stop()
    times = [at for at, _, _ in sends(telegram, 5101)]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert len(times) == 4
    assert min(gaps) >= 0.95, gaps
    # The other chat did not wait behind it.
    assert sends(telegram, 5102)[0][0] - times[0] < 0.5


async def test_transactional_messages_go_ahead_of_a_broadcast(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    audience = list(range(7001, 7031))
    buyers = [7101, 7102, 7103]
    await add_users(sessionmaker, audience + buyers)
    await broadcast(sessionmaker, audience)  # written first: lower ids
    await tell_ended(sessionmaker, buyers)
    # The notes' Russian texts are built, as in a service that has sent one: a first note in a
    # language builds them in a worker thread, and meanwhile broadcast texts (no build) started
    # after the notes could reach Telegram first (seen once in a parallel run).
    await prepare("ru")
    lane = make_lane(sessionmaker, bot, rate=20.0)
    lane.start()
    try:
        await until(lambda: len(sends(telegram)) == len(audience) + len(buyers), timeout=10)
    finally:
        await lane.stop()
    order = [chat for _, chat, _ in sends(telegram)]
    assert set(order[:3]) == set(buyers)
    # And the budget held: no second at Telegram saw more than 20 (+4: jitter of a loaded box).
    times = [at for at, _, _ in sends(telegram)]
    busiest = max(sum(start <= at < start + 1.0 for at in times) for start in times)
    assert busiest <= 24, busiest


async def test_a_blocked_user_is_marked_and_their_broadcast_canceled(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    await add_users(sessionmaker, [5201, 5202])
    telegram.block(5201)
    await tell_ended(sessionmaker, [5201, 5202])
    # A broadcast row not yet due (a later part of a big broadcast) is canceled too.
    async with sessionmaker.begin() as session:
        await enqueue(
            session,
            kind="broadcast",
            payload={"text": "news"},
            chat_id=5201,
            priority=PRIORITY_BROADCAST,
            broadcast_id=2,
            not_before=datetime.now(UTC) + timedelta(hours=1),
        )
    lane = make_lane(sessionmaker, bot)
    lane.start()
    try:
        await until(lambda: len(sends(telegram, 5202)) == 1)
        async with asyncio.timeout(10):
            await lane.drain()
    finally:
        await lane.stop()
    async with sessionmaker() as session:
        blocked = await session.get(User, "5201")
        fine = await session.get(User, "5202")
    assert blocked is not None and blocked.is_blocked
    assert fine is not None and not fine.is_blocked
    by_chat = {(row.chat_id, row.kind): row for row in await rows(sessionmaker)}
    told = by_chat[(5201, "subscription_ended")]
    assert (told.status, told.last_error) == ("failed", "blocked")
    assert by_chat[(5201, "broadcast")].status == "canceled"
    assert by_chat[(5202, "subscription_ended")].status == "sent"


async def test_a_message_telegram_refuses_is_given_up_with_its_reason_logged(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram: FakeTelegramAPI,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_users(sessionmaker, [5301])
    await tell_ended(sessionmaker, [5301])
    telegram.fail_next("sendMessage", 400, "Bad Request: chat not found")
    lane = make_lane(sessionmaker, bot)
    caplog.set_level(logging.WARNING, logger="payments.outbox.lane")
    lane.start()
    try:
        async with asyncio.timeout(10):
            await lane.drain()
    finally:
        await lane.stop()
    [row] = await rows(sessionmaker)
    assert row.status == "failed"
    assert "chat not found" in (row.last_error or "")
    assert any(
        "given up" in record.getMessage() and "chat not found" in record.getMessage()
        for record in caplog.records
    )
    assert sends(telegram) == []


async def test_transient_failures_are_retried_then_given_up(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram: FakeTelegramAPI,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_users(sessionmaker, [5401, 5402])
    await tell_ended(sessionmaker, [5401])
    telegram.fail_next("sendMessage", 502, "Bad Gateway", times=1)
    lane = make_lane(sessionmaker, bot, max_failures=2)
    caplog.set_level(logging.WARNING, logger="payments.outbox.lane")
    lane.start()
    try:
        # The first try meets a 502; the row is tried again (after its backoff) and arrives.
        await until(lambda: len(sends(telegram, 5401)) == 1, timeout=10)
        telegram.fail_next("sendMessage", 502, "Bad Gateway", times=10)
        await tell_ended(sessionmaker, [5402])
        lane.wake()
        await until(lambda: any("given up" in r.getMessage() for r in caplog.records), timeout=20)
    finally:
        await lane.stop()
    by_chat = {row.chat_id: row for row in await rows(sessionmaker)}
    assert by_chat[5401].status == "sent"
    assert by_chat[5402].status == "failed"
    assert "2 failed attempts" in (by_chat[5402].last_error or "")


async def test_two_lanes_on_one_database_never_send_a_message_twice(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram: FakeTelegramAPI,
    bot: Bot,
) -> None:
    audience = list(range(8001, 8201))
    await add_users(sessionmaker, audience)
    await broadcast(sessionmaker, audience)
    # The second instance: an engine (and connections) of its own on the same database.
    other_engine = create_engine(database_url)
    other_bot = create_bot(telegram.token, telegram.base_url)
    first = make_lane(sessionmaker, bot, rate=100.0, batch=8)
    second = make_lane(create_sessionmaker(other_engine), other_bot, rate=100.0, batch=8)
    first.start()
    second.start()
    try:
        await until(lambda: len(sends(telegram)) >= len(audience), timeout=30)
        async with asyncio.timeout(10):
            await first.drain()
            await second.drain()
    finally:
        await first.stop()
        await second.stop()
        await other_bot.session.close()
        await other_engine.dispose()
    assert Counter(chat for _, chat, _ in sends(telegram)) == dict.fromkeys(audience, 1)
    sent = await rows(sessionmaker)
    assert {row.status for row in sent} == {"sent"}
    shares = Counter(row.claimed_by for row in sent)
    assert set(shares) == {first.instance_id, second.instance_id}  # both did part of it


def calls(telegram: FakeTelegramAPI, method: str) -> int:
    """How many calls of `method` Telegram accepted."""
    return sum(
        1
        for index, (name, _) in enumerate(telegram.requests)
        if name.lower() == method.lower() and index not in telegram.refusals
    )


async def test_a_429_on_the_qr_album_sends_the_album_again_not_the_confirmation(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    """The order's text and its QR codes are two rows: when Telegram refuses the album for a
    while, the customer still gets every QR code afterwards, and the confirmation only once."""
    await add_users(sessionmaker, [7001])
    tickets = tuple(
        IssuedTicket(f"T{i}", "adult", date(2026, 12, 20), "12:00", f"ZT1.T{i}.sig")
        for i in range(3)
    )
    note = TicketsIssued(Recipient("7001", "ru"), "Z-1001", None, tickets)
    async with sessionmaker.begin() as session:
        await enqueue_tickets(session, note, dedupe_key="ZT_1")
    telegram.fail_next("sendMediaGroup", 429, "Too Many Requests: retry after 1", retry_after=1)
    lane = make_lane(sessionmaker, bot, rate=100.0)
    lane.start()
    try:
        await until(lambda: calls(telegram, "sendMediaGroup") == 1, timeout=10)
        async with asyncio.timeout(10):
            await lane.drain()
    finally:
        await lane.stop()
    assert len(sends(telegram, 7001)) == 1  # the confirmation, once
    assert calls(telegram, "sendMediaGroup") == 1  # the three QR codes, after the 429
    assert Counter(row.status for row in await rows(sessionmaker)) == {"sent": 2}


def album_codes(telegram: FakeTelegramAPI) -> list[list[str]]:
    """The ticket codes in each album Telegram accepted, in order (a code ends its caption)."""
    return [
        [str(item["caption"]).split()[-1] for item in params["media"]]
        for index, (name, params) in enumerate(telegram.requests)
        if name == "sendMediaGroup" and index not in telegram.refusals
    ]


async def test_a_large_orders_albums_go_a_second_apart_and_a_refused_one_alone_again(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    """23 tickets make three albums (10, 10, 3). Telegram refuses the second for a while: the
    customer still gets every QR code exactly once, the first album is not sent again, and
    the chat gets its messages a second apart."""
    await add_users(sessionmaker, [7101])
    codes = [f"C{i:02}" for i in range(23)]
    tickets = tuple(
        IssuedTicket(code, "adult", date(2026, 12, 20), "12:00", f"ZT1.{code}.sig")
        for code in codes
    )
    note = TicketsIssued(Recipient("7101", "ru"), "Z-1101", None, tickets)
    async with sessionmaker.begin() as session:
        await enqueue_tickets(session, note, dedupe_key="ZT_11")
    lane = make_lane(sessionmaker, bot, rate=100.0)
    lane.start()
    try:
        await until(lambda: calls(telegram, "sendMediaGroup") == 1, timeout=10)
        # The next album comes a second after the first: refused once, with a 429.
        telegram.fail_next("sendMediaGroup", 429, "Too Many Requests: retry after 1", retry_after=1)
        await until(lambda: calls(telegram, "sendMediaGroup") == 3, timeout=15)
        async with asyncio.timeout(10):
            await lane.drain()
    finally:
        await lane.stop()
    albums = album_codes(telegram)
    assert [len(album) for album in albums] == [10, 10, 3]
    assert sorted(code for album in albums for code in album) == codes  # each QR once
    assert len(sends(telegram, 7101)) == 1  # the confirmation, once
    assert Counter(row.status for row in await rows(sessionmaker)) == {"sent": 4}
    moments = [
        telegram.request_times[index]
        for index, (name, params) in enumerate(telegram.requests)
        if name.startswith("send") and params.get("chat_id") in (7101, "7101")
    ]
    gaps = [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]
    assert min(gaps) >= 0.9, gaps  # one message a second in the chat, refused calls too


async def test_a_confirmation_committed_during_a_broadcast_goes_out_within_a_second(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    # A broadcast far longer than the wait below is being sent when a customer pays: their
    # confirmation is committed (and the lane woken, as fulfilment does after its commit)
    # while the lane holds a whole batch of broadcast rows and spends its budget on them.
    audience = list(range(8001, 8401))
    buyer = 8501
    await add_users(sessionmaker, [*audience, buyer])
    await broadcast(sessionmaker, audience)
    lane = make_lane(sessionmaker, bot, rate=20.0)
    lane.start()
    try:
        await until(lambda: len(sends(telegram)) >= 30, timeout=10)
        await tell_ended(sessionmaker, [buyer])
        lane.wake()
        committed = time.monotonic()
        await until(lambda: bool(sends(telegram, buyer)), timeout=5)
        waited = time.monotonic() - committed
        broadcast_sent = len(sends(telegram)) - 1
    finally:
        await lane.stop()
    assert waited < 1.0, waited
    assert broadcast_sent < len(audience)  # it really overtook a broadcast still going


class SendMoments(BaseRequestMiddleware):
    """Note when each message leaves the bot: the innermost middleware, right before the HTTP
    request (the fake's own arrival stamps add its loop's turns, which differ under load)."""

    def __init__(self) -> None:
        """Start with no sends."""
        self.moments: list[float] = []

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Note the moment, then send."""
        if method.__api_method__ == "sendMessage":
            self.moments.append(time.monotonic())
        return await make_request(bot, method)


async def test_a_delivery_that_starts_late_is_counted_when_it_sends(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    # Telegram counts a broadcast's messages as they arrive. Every fourth delivery here takes
    # 150 ms between its token and its send (a busy loop, a message slow to build): counted at
    # their tokens, such sends bunched 11 into 0.9 s of a 10-a-second budget.
    ids = list(range(5201, 5241))
    await add_users(sessionmaker, ids)
    await broadcast(sessionmaker, ids)
    lane = make_lane(sessionmaker, bot, rate=10.0)
    sent = SendMoments()
    bot.session.middleware(sent)
    plain = broadcast_deliverer(bot)

    async def slow_to_start(envelope: Envelope) -> Outcome:
        if envelope.chat_id is not None and envelope.chat_id % 4 == 1:
            await asyncio.sleep(0.15)
        return await plain(envelope)

    lane.register("broadcast", slow_to_start)
    lane.start()
    try:
        await until(lambda: len(sends(telegram)) == len(ids), timeout=15)
    finally:
        await lane.stop()
    assert len(sent.moments) == len(ids)
    # The budget counts each send a few middleware calls before this test notes it; on a
    # machine busy with other work the two can be milliseconds apart, differently each time
    # (CI saw 11 in one second that way). The tenth of a second allowed for that is far less
    # than the bunching this guards against.
    assert busiest_second(sent.moments, window=0.9) <= 10, busiest_second(sent.moments)
