"""One chat's messages arrive in the order they were written.

A customer who is told "3 days left" and then "1 day left", or gets an order's confirmation,
its QR album and then a second order's confirmation, must read them in that order, whatever
the lane did with them meanwhile (a claim that took two rows of one chat put the second back
for a second, and a row written after it overtook it; seen in CI as reminders out of order).
"""

from __future__ import annotations

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.outbox.store import enqueue
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.integration.test_outbox_lane import add_users, make_lane, sends, until

CHAT = 5301


async def write(sessionmaker: async_sessionmaker[AsyncSession], *texts: str) -> None:
    """Write transactional messages to one chat, in one transaction, in this order."""
    async with sessionmaker.begin() as session:
        for text in texts:
            await enqueue(session, kind="broadcast", payload={"text": text}, chat_id=CHAT)


async def test_a_message_written_later_does_not_overtake_one_put_back(
    sessionmaker: async_sessionmaker[AsyncSession], telegram: FakeTelegramAPI, bot: Bot
) -> None:
    await add_users(sessionmaker, [CHAT])
    await write(sessionmaker, "first", "second")
    lane = make_lane(sessionmaker, bot, rate=100.0)
    lane.start()
    try:
        await until(lambda: len(sends(telegram, CHAT)) == 1)
        # Written while "second" waits for the chat's next second.
        await write(sessionmaker, "third")
        await until(lambda: len(sends(telegram, CHAT)) == 3)
    finally:
        await lane.stop()
    assert [text for _, _, text in sends(telegram, CHAT)] == ["first", "second", "third"]
