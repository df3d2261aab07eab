"""The expiry sweep's notices, written by the database: the same rows `to_payload` would write.

The sweep writes its "time to pay ran out" messages with one INSERT … SELECT per chunk
(payments/outbox/notes.py `notes_insert`), so each field of the note is spelled in SQL. These
tests hold that SQL to the Python note on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update

from db.models import Payment
from db.models_outbox import OutboxMessage
from payments.outbox.notes import from_payload, payload_sql, to_payload
from payments.ports import PaymentCanceled, Recipient
from payments.rounds import SweepReport
from tests.integration.test_jobs import World, add_user, buy_monthly, stored
from tests.integration.test_jobs import world as world  # noqa: F401, PLC0414  (fixture)
from tests.integration.test_jobs import yookassa as yookassa  # noqa: F401, PLC0414  (fixture)


async def notices(world: World) -> list[OutboxMessage]:
    async with world.sessionmaker() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "payment_canceled")
            .order_by(OutboxMessage.chat_id)
        )
        return list(rows.scalars())


async def copy_payment(world: World, payment_id: str, *, user_id: str) -> str:
    """Store a copy of a payment for another user; return the copy's id."""
    original = await stored(world, payment_id)
    values = {a.key: getattr(original, a.key) for a in Payment.__mapper__.column_attrs}
    copy_id = f"{payment_id[:-1]}x"
    values |= {"id": copy_id, "provider_id": None, "idempotence_key": copy_id, "user_id": user_id}
    async with world.sessionmaker.begin() as session:
        await session.execute(insert(Payment).values(values))
    return copy_id


async def test_each_expired_payment_gets_the_notice_its_note_would_write(world: World) -> None:
    await add_user(world, "3001", language="en")
    await add_user(world, "3002")
    english = await buy_monthly(world, "3001")
    russian = await buy_monthly(world, "3002")
    # The first one's pay button is on screen: the notice carries the message to retire.
    async with world.sessionmaker.begin() as session:
        await session.execute(
            update(Payment).where(Payment.id == english.payment_id).values(chat_message_id=777)
        )
    world.clock.advance(minutes=16)

    report = await world.jobs.expire()

    assert report == SweepReport(seen=2, changed=2)
    rows = await notices(world)
    expected = [
        PaymentCanceled(
            Recipient("3001", "en", 777), english.payment_id, "expired", "subscription"
        ),
        PaymentCanceled(
            Recipient("3002", "ru", None), russian.payment_id, "expired", "subscription"
        ),
    ]
    assert [row.payload for row in rows] == [to_payload(note) for note in expected]
    assert [from_payload(row.kind, row.payload) for row in rows] == expected
    assert [(row.chat_id, row.dedupe_key) for row in rows] == [
        (3001, f"payment_canceled:{english.payment_id}:expired"),
        (3002, f"payment_canceled:{russian.payment_id}:expired"),
    ]
    # Transactional (ahead of broadcasts), for Telegram; the lane may have claimed them already.
    assert {(row.channel, row.priority) for row in rows} == {("telegram", 0)}


async def test_each_sweeps_notices_carry_the_time_they_were_written(world: World) -> None:
    # The statement that writes them is built once per process; its time is a parameter.
    written = []
    for user in ("3001", "3002"):
        await add_user(world, user)
        await buy_monthly(world, user)
        world.clock.advance(minutes=16)
        before = datetime.now(UTC)
        assert (await world.jobs.expire()).changed == 1
        after = datetime.now(UTC)
        (row,) = [row for row in await notices(world) if row.chat_id == int(user)]
        assert before <= row.created_at <= after
        assert row.not_before == row.created_at
        written.append(row.created_at)
    assert written[0] < written[1]


async def test_a_user_without_a_chat_is_canceled_and_told_nothing(world: World) -> None:
    # API-only users (the Mini App's test users, say) have no Telegram chat; nor has an
    # empty id, which SQL's "no character but digits" alone would let through as chat 0.
    for user in ("api_user_1", "", "3001"):
        await add_user(world, user)
    api = await buy_monthly(world, "api_user_1")
    chat = await buy_monthly(world, "3001")
    # No checkout takes an empty id (YooKassa refuses its receipt): the row is copied.
    empty = await copy_payment(world, api.payment_id, user_id="")
    world.clock.advance(minutes=16)

    report = await world.jobs.expire()

    assert report == SweepReport(seen=3, changed=3)
    for payment_id in (api.payment_id, empty):
        assert (await stored(world, payment_id)).status == "canceled"
    assert [row.payload["payment_id"] for row in await notices(world)] == [chat.payment_id]


def test_a_note_field_the_statement_does_not_fill_is_refused() -> None:
    # A field added to PaymentCanceled must be given to the SQL too, or nothing is built.
    fields = {
        "recipient": {"user_id": "1", "language": "ru", "pay_message_id": None},
        "payment_id": "ZT_1",
        "reason": "expired",
        "kind": "tickets",
    }
    with pytest.raises(KeyError, match="order_id"):
        payload_sql("sqlite", PaymentCanceled, fields)
