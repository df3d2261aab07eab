"""PostgreSQL round trips: the pool pings only a connection that sat idle (so a dropped one
never fails a request), a lost one is not handed out again, and a one-statement read runs
without BEGIN and ROLLBACK around it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import asyncpg
import pytest
from sqlalchemy import Integer, Table, bindparam, event, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from bot.middlewares import UserWriter
from db.engine import create_engine, create_sessionmaker
from db.models import OrderCounter, SlotInventory, User
from db.models_outbox import OutboxMessage
from db.reader import Reader
from db.repositories.users import Profile, choose_language
from db.writes import read, write, write_alone
from payments.checkout.errors import SoldOut
from payments.outbox.lane import SendingLane
from payments.outbox.outcomes import Envelope, Outcome, Sent
from payments.outbox.store import PRIORITY_BROADCAST
from payments.tickets.checkout import number_order
from payments.tickets.rules import OrderLine, ValidOrder
from tests.conftest import MovableClock
from tests.outbox_kit import enqueue_many

# PostgreSQL's own round trips: run by the services run (scripts/with-services.sh), which gives
# every test a PostgreSQL database; the SQLite run deselects them.
pytestmark = pytest.mark.services


def _statements_sent(engine: AsyncEngine) -> list[str]:
    """Return a list that gets every plain statement asyncpg sends on the engine's connections
    (BEGIN, COMMIT, ROLLBACK; prepared statements are not logged)."""
    sent: list[str] = []

    @event.listens_for(engine.sync_engine, "connect")
    def _log_queries(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        driver = record.driver_connection
        assert driver is not None
        driver.add_query_logger(lambda logged: sent.append(logged.query))

    return sent


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_connection_dropped_while_idle_is_replaced_not_failed(database_url: str) -> None:
    """The server drops an idle pooled connection (a restart, an idle timeout): the next
    request gets a live connection and its answer, not a connection error."""
    assert database_url.startswith("postgresql"), "this test needs the services run's PostgreSQL"
    engine = create_engine(database_url, ping_idle_seconds=0.0)
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(_dsn(database_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()

        async with engine.connect() as connection:
            second = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()

        assert second != first
    finally:
        await engine.dispose()


COUNTERS = cast(Table, OrderCounter.__table__)  # a Core INSERT: a plan


async def _terminate(database_url: str, pid: int) -> None:
    admin = await asyncpg.connect(_dsn(database_url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_lost_under_a_compiled_statement_is_not_handed_out_again(
    database_url: str,
) -> None:
    """The server drops a pooled connection that is in use (a restart, a failover), so no idle
    ping sees it. A statement compiled once (db/plan.py) that fails on it fails with
    SQLAlchemy's error, and the next one (a read, a transaction's write, a write that is a
    transaction of its own) gets a new connection: the lost one is not handed out again, as
    SQLAlchemy's own execution ensures."""
    assert database_url.startswith("postgresql"), "this test needs the services run's PostgreSQL"
    engine = create_engine(database_url, ping_idle_seconds=3600.0)
    sessionmaker = create_sessionmaker(engine)
    reader = Reader(engine)
    backend = select(func.pg_backend_pid())  # no per-call rewriting: it runs as a plan
    try:
        first = (await reader.rows(backend, {}))[0][0]
        await _terminate(database_url, first)
        with pytest.raises(DBAPIError) as lost:
            await reader.rows(backend, {})
        assert lost.value.connection_invalidated
        second = (await reader.rows(backend, {}))[0][0]
        assert second != first

        await _terminate(database_url, second)
        with pytest.raises(DBAPIError):
            async with sessionmaker.begin() as session:
                await write(session, insert(COUNTERS), {"day": "20300101", "last": 1})
        async with sessionmaker.begin() as session:
            third = (await read(session, backend, {}))[0][0]
            await write(session, insert(COUNTERS), {"day": "20300101", "last": 1})
        assert third not in (first, second)
        assert (await reader.rows(select(OrderCounter.last), {}))[0][0] == 1

        # A statement that is a transaction of its own (`write_alone`) on the lost connection.
        renumber = update(COUNTERS).values(last=bindparam("n"))
        await _terminate(database_url, (await reader.rows(backend, {}))[0][0])
        with pytest.raises(DBAPIError) as lost:
            await write_alone(sessionmaker, renumber, {"n": 2})
        assert lost.value.connection_invalidated
        assert (await write_alone(sessionmaker, renumber, {"n": 3})).rowcount == 1
        assert (await reader.rows(select(OrderCounter.last), {}))[0][0] == 3
    finally:
        reader.close()
        await engine.dispose()


async def test_a_one_statement_read_runs_without_a_transaction_around_it(
    database_url: str,
) -> None:
    """The slot picker's seats and the notification's look-up are one SELECT each: PostgreSQL
    gets that statement alone, not BEGIN, the SELECT and ROLLBACK (three round trips)."""
    assert database_url.startswith("postgresql"), "this test needs the services run's PostgreSQL"
    engine = create_engine(database_url)
    sent = _statements_sent(engine)

    reader = Reader(engine)
    try:
        rows = await reader.all(select(func.now()))
        columns = await reader.rows(select(bindparam("n", type_=Integer)), {"n": 1})
    finally:
        await engine.dispose()

    assert len(rows) == len(columns) == 1
    # asyncpg logs the plain statements it sends (BEGIN, ROLLBACK); the SELECTs go as
    # prepared statements, so with nothing around them nothing is logged.
    around = [q for q in sent if q.strip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT"))]
    assert around == []


async def test_an_order_number_is_drawn_in_a_statement_of_its_own(database_url: str) -> None:
    """Every checkout of a day updates the day's counter row. On PostgreSQL the draw commits
    by itself, so the row is locked for that statement alone, not until the process gets round
    to COMMIT (in a rush, checkouts queued on it holding pooled connections); the connection
    then goes back to the pool running transactions as before."""
    assert database_url.startswith("postgresql"), "this test needs the services run's PostgreSQL"
    engine = create_engine(database_url, pool_size=1)
    sessionmaker = create_sessionmaker(engine)
    sent = _statements_sent(engine)

    order = ValidOrder(date(2031, 5, 1), "10:00", (OrderLine("adult", 1, Decimal("500.00")),))
    now = datetime(2031, 4, 20, 12, 0, tzinfo=UTC)
    try:
        drawn = [await number_order(sessionmaker, order, now) for _ in range(2)]
        around = [q for q in sent if q.strip().upper().startswith(("BEGIN", "COMMIT"))]

        # The same pooled connection runs an ordinary transaction again: a rollback undoes.
        async with sessionmaker() as session:
            await session.execute(text("INSERT INTO order_counters (day, last) VALUES ('x', 1)"))
            await session.rollback()
        async with sessionmaker() as session:
            left = await session.scalar(text("SELECT count(*) FROM order_counters WHERE day='x'"))
    finally:
        await engine.dispose()

    assert drawn == ["ZT-20310420-001", "ZT-20310420-002"]
    assert around == []
    assert left == 0


async def test_a_slot_seen_full_is_refused_without_drawing_a_number(database_url: str) -> None:
    """The draw and the check of the slot are one statement: a checkout of more seats than the
    slot has left is refused with how many are left, and the day's counter does not move."""
    assert database_url.startswith("postgresql"), "this test needs the services run's PostgreSQL"
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    visit = date(2031, 5, 1)
    now = datetime(2031, 4, 20, 12, 0, tzinfo=UTC)

    def order(adults: int) -> ValidOrder:
        return ValidOrder(visit, "10:00", (OrderLine("adult", adults, Decimal("500.00")),))

    try:
        async with sessionmaker.begin() as session:
            await session.execute(
                insert(SlotInventory).values(
                    visit_date=visit, slot_time="10:00", capacity=3, held=2
                )
            )
        with pytest.raises(SoldOut) as refused:
            await number_order(sessionmaker, order(2), now)
        async with sessionmaker() as session:
            counters = await session.scalar(select(func.count()).select_from(OrderCounter))
        drawn = await number_order(sessionmaker, order(1), now)
    finally:
        await engine.dispose()

    assert refused.value.seats_left == 1
    assert counters == 0
    assert drawn == "ZT-20310420-001"


async def test_new_customers_are_written_in_one_statement_keeping_a_picked_language(
    database_url: str,
) -> None:
    """A burst of first updates (the same customer twice among them) is one upsert on
    PostgreSQL, with no BEGIN and COMMIT around it, and a language picked in the bot comes back
    whatever Telegram's language code says."""
    assert database_url.startswith("postgresql"), "this test needs the services run's PostgreSQL"
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    sent = _statements_sent(engine)
    clock = MovableClock(datetime(2031, 4, 20, 12, 0, tzinfo=UTC))
    writer = UserWriter(sessionmaker, clock)

    def profile(user_id: str, language: str) -> Profile:
        return Profile(id=user_id, first_name="A", last_name=None, username=None, language=language)

    try:
        first = await asyncio.gather(
            writer.write(profile("501", "ru")),
            writer.write(profile("501", "ru")),
            writer.write(profile("502", "en")),
        )
        around = [q for q in sent if q.strip().upper().startswith(("BEGIN", "COMMIT"))]
        async with sessionmaker.begin() as session:
            await choose_language(session, "502", "ru")
        again = await writer.write(profile("502", "en"))
        async with sessionmaker() as session:
            users = (await session.execute(select(User.id, User.language))).all()
    finally:
        await engine.dispose()

    assert list(first) == [None, None, None]
    assert around == []
    assert again == "ru"
    assert sorted((str(u), str(lang)) for u, lang in users) == [("501", "ru"), ("502", "ru")]


async def test_the_sending_lane_claims_and_records_each_in_one_statement(
    database_url: str,
) -> None:
    """In a sale rush the lane claims and records a confirmation and a QR album per buyer:
    on PostgreSQL each claim, each broadcast row's mark and each sent record is one statement
    with no BEGIN and COMMIT around it, and every message still goes out once."""
    assert database_url.startswith("postgresql"), "this test needs the services run's PostgreSQL"
    writer, engine = create_engine(database_url), create_engine(database_url)
    sent = _statements_sent(engine)
    delivered: list[int] = []

    async def deliver(envelope: Envelope) -> Outcome:
        assert envelope.chat_id is not None
        delivered.append(envelope.chat_id)
        return Sent()

    rows = [
        {
            "kind": "broadcast",
            "payload": {"text": "news"},
            "chat_id": chat,
            "priority": PRIORITY_BROADCAST,
            "broadcast_id": 1,
            "dedupe_key": f"bc:1:{chat}",
        }
        for chat in range(8101, 8106)
    ]
    lane = SendingLane(
        create_sessionmaker(engine), rate=1000.0, per_chat_seconds=0.0, poll_seconds=0.05
    )
    lane.register("broadcast", deliver)
    statuses: list[str] = []
    try:
        lane.start()
        async with create_sessionmaker(writer).begin() as session:
            await enqueue_many(session, rows)
        async with asyncio.timeout(10):
            while statuses != ["sent"] * len(rows):
                await asyncio.sleep(0.02)
                async with writer.connect() as connection:
                    found = await connection.execute(
                        select(OutboxMessage.status).order_by(OutboxMessage.id)
                    )
                    statuses = [str(status) for status in found.scalars()]
    finally:
        await lane.stop()
        await writer.dispose()
        await engine.dispose()

    assert sorted(delivered) == list(range(8101, 8106))
    # The first pass's look for rows of a dead instance's lease (every 30 s) is a transaction
    # of two statements; everything after it is one statement each.
    begins = [q for q in sent if q.strip().upper().startswith("BEGIN")]
    assert len(begins) <= 1, sent
