"""Guards that an outside review broke on purpose without the suite noticing (issue 11), end to
end: the composed service, the real Bot and SDK against the local Telegram and YooKassa.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast import send_text
from bot.factory import create_bot
from bot.notifier import TelegramNotifier
from db.models import Payment, SlotInventory
from payments.catalog import load_catalog
from payments.outbox.lane import SendingLane
from payments.outbox.outcomes import Envelope, Outcome
from payments.outbox.store import PRIORITY_BROADCAST
from payments.ports import Recipient, SubscriptionEnded
from tests.conftest import MovableClock
from tests.e2e.admin_chat import add_users
from tests.e2e.conftest import ADMIN_ID, Shop, ShopFactory
from tests.e2e.test_api import ALICE, SEED_SESSION, _auth, _invalid, _login
from tests.e2e.test_subscriptions import _choose_plan, _pay_url, _provider_id, _stored
from tests.e2e.test_tickets import _choose
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.outbox_kit import enqueue_many

WEBHOOK = "/api/v2/payments/webhook/yookassa"
RETRY_AFTER = 1


def _today(shop: Shop) -> date:
    return datetime.now(UTC).astimezone(shop.settings.tz).date()


def _at(shop: Shop, day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=shop.settings.tz)


async def _held(shop: Shop, day: date) -> int:
    async with shop.service.sessionmaker() as session:
        held = await session.scalar(
            select(func.coalesce(func.sum(SlotInventory.held), 0)).where(
                SlotInventory.visit_date == day
            )
        )
    return int(held or 0)


async def _payments(shop: Shop) -> int:
    async with shop.service.sessionmaker() as session:
        return int(await session.scalar(select(func.count(Payment.id))) or 0)


def _waits_after_429(telegram: FakeTelegramAPI, method: str) -> list[tuple[float, int]]:
    """For each call of `method` refused with 429: seconds until the next call of it, and the
    retry_after the refusal asked for."""
    calls = [i for i, (name, _) in enumerate(telegram.requests) if name == method]
    waits = []
    for position, index in enumerate(calls[:-1]):
        code, parameters = telegram.refusals.get(index, (200, {}))
        if code == 429:
            gap = telegram.request_times[calls[position + 1]] - telegram.request_times[index]
            waits.append((gap, int(parameters["retry_after"])))
    return waits


def _chat_waits_after_429(telegram: FakeTelegramAPI, method: str) -> list[tuple[float, int]]:
    """For each call of `method` refused with 429: seconds until the next call of it TO THE SAME
    CHAT, and the retry_after the refusal asked for."""
    calls = [i for i, (name, _) in enumerate(telegram.requests) if name == method]
    waits = []
    for position, index in enumerate(calls):
        code, parameters = telegram.refusals.get(index, (200, {}))
        if code != 429:
            continue
        chat = str(telegram.requests[index][1]["chat_id"])
        later = [
            i for i in calls[position + 1 :] if str(telegram.requests[i][1]["chat_id"]) == chat
        ]
        assert later, f"chat {chat} never tried again after a 429"
        gap = telegram.request_times[later[0]] - telegram.request_times[index]
        waits.append((gap, int(parameters["retry_after"])))
    return waits


def _all_waited(waits: list[tuple[float, int]]) -> bool:
    # asyncio may wake a sleeper up to a clock tick early: 50 ms of slack.
    return all(gap >= asked - 0.05 for gap, asked in waits)


# ---- a slot that has begun ------------------------------------------------------------------


async def test_api_refuses_a_slot_that_began_earlier_today(make_shop: ShopFactory) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock, JWT_SECRET="x" * 64)
    today = _today(shop)
    async with httpx.AsyncClient(base_url=shop.service.base_url, timeout=15) as http:
        token = await _login(http, shop, ALICE)
        clock.set(_at(shop, today, 12, 30))

        def body(slot: str) -> dict[str, Any]:
            order = copy.deepcopy(SEED_SESSION)
            order["items"][0].update(visit_date=today.isoformat(), visit_time=slot)
            order["order"]["total_amount"]["value"] = "2000.00"  # two adults
            return order

        for slot in ("10:00", "12:00"):
            refused = await http.post(
                "/v1/payments/sessions", json=body(slot), headers=_auth(token)
            )
            assert _invalid(refused) == ["items.0.visit_time"]
            assert "started" in refused.json()["errors"][0]["message"]
        assert shop.yookassa.create_count == 0
        assert await _held(shop, today) == 0
        # A slot still ahead that day is sold as usual.
        later = await http.post("/v1/payments/sessions", json=body("14:00"), headers=_auth(token))
        assert later.status_code == 201, later.text
    assert await _held(shop, today) == 2


async def test_bot_refuses_a_slot_that_began_while_the_customer_was_choosing(
    make_shop: ShopFactory,
) -> None:
    clock = MovableClock()
    shop = await make_shop(clock=clock)
    today = _today(shop)
    clock.set(_at(shop, today, 9, 50))
    user = shop.telegram.user(6101)
    await _choose(user, shop, adults=1, slot="10:00", days=0)
    await user.press("Пропустить")
    await user.wait_for(lambda m: "Проверьте заказ" in (m.text or ""))
    clock.set(_at(shop, today, 10, 5))

    await user.press("💳 Перейти к оплате")

    answer = await user.wait_callback_answer()
    assert answer.show_alert and "дата уже недоступна" in (answer.text or "")
    assert shop.yookassa.create_count == 0
    assert await _payments(shop) == 0
    assert await _held(shop, today) == 0
    # The journey went back to the dates; an old 10:00 button of today is refused as well.
    await user.wait_for(lambda m: "Выберите дату" in (m.text or "") or bool(m.buttons))
    await user.press_data("td:" + today.strftime("%Y%m%d"))
    await user.wait_for(lambda m: "10:00" in " ".join(m.button_texts()))
    await user.press_data("ts:1000")
    gone = await user.wait_callback_answer()
    assert gone.show_alert and "мест больше нет" in (gone.text or "")
    assert await _payments(shop) == 0


# ---- who may cancel -----------------------------------------------------------------------


async def test_a_forged_cancel_button_cannot_cancel_another_users_payment(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    owner = shop.telegram.user(6201)
    stranger = shop.telegram.user(6202)
    pay_message = await _choose_plan(owner, "299 ₽")
    provider_id = _provider_id(await _pay_url(owner, pay_message))
    cancel = pay_message.find_button("✖️ Отменить")
    assert cancel is not None
    await stranger.send("/start")
    await stranger.wait_reply()

    await stranger.press_data(str(cancel["callback_data"]))

    answer = await stranger.wait_callback_answer()
    assert answer.show_alert and "уже завершён" in (answer.text or "")
    payment = await _stored(shop, provider_id)
    assert (payment.status, payment.cancel_reason) == ("pending", None)
    live = owner.chat.get(pay_message.message_id)
    assert live is not None and "✖️ Отменить" in live.button_texts()
    # The owner's own button still works.
    await owner.press("✖️ Отменить", pay_message)
    await owner.wait_for(lambda m: "отменён" in (m.text or ""))
    assert (await _stored(shop, provider_id)).cancel_reason == "user"


# ---- the webhook asks for a redelivery when YooKassa cannot be asked -------------------------


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_answers_503_when_yookassa_is_down(make_shop: ShopFactory) -> None:
    dead = f"http://127.0.0.1:{_dead_port()}/v3"
    shop = await make_shop(YOOKASSA_API_URL=dead, YOOKASSA_TIMEOUT_SECONDS=1)
    url = f"{shop.service.base_url}{WEBHOOK}"
    payment_id = f"{uuid.uuid4()}"
    refund_id = f"{uuid.uuid4()}"

    paid = await shop.yookassa.send_notification(
        "payment.succeeded", {"id": payment_id, "status": "succeeded"}, url=url
    )
    refunded = await shop.yookassa.send_notification(
        "refund.succeeded", {"id": refund_id, "payment_id": payment_id}, url=url
    )

    assert (paid, refunded) == (503, 503)


async def test_webhook_answers_503_when_the_refetch_fails_and_the_redelivery_is_applied(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(YOOKASSA_TIMEOUT_SECONDS=1)
    user = shop.telegram.user(6301)
    provider_id = _provider_id(await _pay_url(user, await _choose_plan(user, "299 ₽")))
    # YooKassa answers 500 to our re-fetch for a while (longer than one delivery waits).
    shop.yookassa.fail_next(n=2, status=500, method="GET", path_contains=provider_id)

    await shop.yookassa.pay(provider_id)
    await shop.yookassa.wait_notifications()

    statuses = [n.http_status for n in shop.yookassa.notifications if n.object_id == provider_id]
    assert statuses[0] == 503
    assert statuses[-1] == 200
    await user.wait_for(lambda m: "активна до" in (m.text or ""), timeout=10)
    assert (await _stored(shop, provider_id)).status == "succeeded"
    assert len([m for m in user.messages if "активна до" in (m.text or "")]) == 1


# ---- Telegram's 429: retry_after is waited, not just counted ------------------------------


@pytest.fixture
async def plain_bot(telegram: FakeTelegramAPI) -> AsyncIterator[Bot]:
    """A Bot without the session's RetryAfterMiddleware: every 429 reaches the caller."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    bot = Bot(telegram.token, session=session)
    yield bot
    await bot.session.close()


async def test_a_broadcast_waits_telegrams_retry_after_before_the_same_chat_again(
    telegram: FakeTelegramAPI, plain_bot: Bot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # The lane puts back only the row that got the 429: the other chats go ahead meanwhile,
    # and the refused chat is tried again a full retry_after later.
    recipients = [6401, 6402, 6403]
    for chat_id in recipients:
        telegram.user(chat_id)
    telegram.fail_next(
        "sendMessage", 429, f"Too Many Requests: retry after {RETRY_AFTER}", RETRY_AFTER
    )

    async def deliver(envelope: Envelope) -> Outcome:
        assert envelope.chat_id is not None
        return await send_text(plain_bot, envelope.chat_id, str(envelope.payload["text"]))

    async with sessionmaker.begin() as session:
        await enqueue_many(
            session,
            [
                {
                    "kind": "broadcast",
                    "payload": {"text": "news"},
                    "chat_id": chat_id,
                    "priority": PRIORITY_BROADCAST,
                }
                for chat_id in recipients
            ],
        )
    lane = SendingLane(sessionmaker)
    lane.register("broadcast", deliver)
    lane.start()
    try:
        async with asyncio.timeout(15):
            while len(telegram.calls("sendMessage")) < len(recipients) + 1:
                await lane.drain()
            await lane.drain()
    finally:
        await lane.stop()

    calls = [int(p["chat_id"]) for p in telegram.calls("sendMessage")]
    # Whichever chat's send reached Telegram first got the 429 (the three run side by side, each
    # after its row's mark, a round trip on PostgreSQL); the two others went ahead meanwhile.
    assert sorted(calls[:3]) == recipients
    assert calls[3] == calls[0]
    waits = _chat_waits_after_429(telegram, "sendMessage")
    assert len(waits) == 1
    assert _all_waited(waits), waits
    for chat_id in recipients:
        assert [m.text for m in telegram.chat(chat_id).bot_messages] == ["news"]


async def test_the_bots_own_messages_wait_telegrams_retry_after(
    telegram: FakeTelegramAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = create_bot(telegram.token, telegram.base_url)
    notifier = TelegramNotifier(
        bot=bot,
        catalog=load_catalog(),
        tz=ZoneInfo("Europe/Moscow"),
        sessionmaker=sessionmaker,
    )
    customer = telegram.user(6501)
    telegram.fail_next(
        "sendMessage", 429, f"Too Many Requests: retry after {RETRY_AFTER}", RETRY_AFTER, times=2
    )
    try:
        await notifier.subscription_ended(SubscriptionEnded(Recipient("6501", "ru")))
    finally:
        await bot.session.close()

    assert len(customer.chat.bot_messages) == 1
    assert len(telegram.calls("sendMessage")) == 3
    waits = _waits_after_429(telegram, "sendMessage")
    assert len(waits) == 2
    assert _all_waited(waits), waits


async def test_a_broadcast_in_the_shop_waits_every_retry_after(make_shop: ShopFactory) -> None:
    # Four 429s in a row: three are waited by the session middleware, the fourth by the
    # lane, which puts that row back; each retry to that chat comes a full retry_after later.
    shop = await make_shop()
    ids = [6601, 6602]
    await add_users(shop, ids)
    admin = shop.telegram.user(ADMIN_ID)
    await admin.send("/broadcast Hello")
    confirm = await admin.wait_reply()
    shop.telegram.fail_next(
        "sendMessage", 429, f"Too Many Requests: retry after {RETRY_AFTER}", RETRY_AFTER, times=4
    )
    await admin.press("✅ Отправить", confirm)
    await admin.wait_for(lambda m: "завершена: 2/2" in (m.text or ""), timeout=30)

    waits = _chat_waits_after_429(shop.telegram, "sendMessage")
    assert len(waits) == 4
    assert _all_waited(waits), waits
    for chat_id in ids:
        assert [m.text for m in shop.telegram.chat(chat_id).bot_messages] == ["Hello"]
