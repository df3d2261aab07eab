"""The real migrations on a real SQLite file: they match the models and keep data honest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.base import Base
from db.models import Order, Payment, SlotInventory, Ticket, User
from db.repositories.users import Profile, upsert_user


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


def _indexed_columns(connection: Connection) -> set[str]:
    inspector = inspect(connection)
    return {
        str(column)
        for index in inspector.get_indexes("payments")
        for column in index["column_names"]
    } | {
        str(column)
        for constraint in inspector.get_unique_constraints("payments")
        for column in constraint["column_names"]
    }


async def test_no_index_of_payments_holds_a_column_the_expiry_sweep_writes(
    engine: AsyncEngine,
) -> None:
    # The sweep writes these three; on PostgreSQL its updates are heap-only while no index
    # holds them (and half of each page is free). Its work list is payment_deadlines.
    async with engine.connect() as connection:
        indexed = await connection.run_sync(_indexed_columns)
        assert {"status", "cancel_reason", "updated_at"} & indexed == set()
        if connection.dialect.name == "postgresql":
            options = await connection.exec_driver_sql(
                "SELECT reloptions FROM pg_class WHERE relname = 'payments'"
            )
            assert options.scalar() == ["fillfactor=50"]


async def test_only_broadcast_rows_are_in_the_broadcast_index_and_it_serves_them(
    engine: AsyncEngine,
) -> None:
    # Every confirmation and expiry notice used to write an entry into it for nothing. The
    # broadcast's queries ask for `broadcast_id = <a parameter>`: the index must serve them
    # in a plan made before the value is known (a prepared statement's generic plan).
    progress = "SELECT status, count(*) FROM outbox WHERE broadcast_id = {} GROUP BY status"
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            definition = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_broadcast'"
            for setting in ("enable_seqscan = off", "plan_cache_mode = force_generic_plan"):
                await connection.exec_driver_sql(f"SET {setting}")  # a tiny table; no value
            await connection.exec_driver_sql(
                f"PREPARE progress(integer) AS {progress.format('$1')}"
            )
            plan = await connection.exec_driver_sql("EXPLAIN EXECUTE progress(7)")
        else:
            definition = "SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_broadcast'"
            plan = await connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {progress.format('?')}", (7,)
            )
        assert "ix_outbox_broadcast" in " ".join(str(row[-1]) for row in plan.all())
        created = str((await connection.exec_driver_sql(definition)).scalar())
        assert created.replace("(", "").replace(")", "").endswith("broadcast_id IS NOT NULL")


@pytest.mark.sqlite_only
async def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


def _user(user_id: str = "1001") -> User:
    return User(id=user_id, first_name="Anna", language="ru")


def _payment(payment_id: str, **overrides: object) -> Payment:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "id": payment_id,
        "idempotence_key": payment_id,
        "kind": "subscription",
        "user_id": "1001",
        "plan_code": "monthly",
        "amount": Decimal("299.00"),
        "description": "x",
        "expires_at": now + timedelta(minutes=15),
    }
    values.update(overrides)
    return Payment(**values)


async def test_money_and_time_round_trip_exactly(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    moscow = timezone(timedelta(hours=3))
    created = datetime(2026, 11, 25, 12, 30, 15, 123456, tzinfo=moscow)
    async with sessionmaker.begin() as session:
        session.add(_user())
        await session.flush()
        session.add(_payment("ZT_0000000001", amount=Decimal("2999.99"), created_at=created))
    async with sessionmaker() as session:
        payment = await session.get(Payment, "ZT_0000000001")
        assert payment is not None
        assert payment.amount == Decimal("2999.99")
        assert payment.refunded_amount == Decimal("0.00")
        assert payment.created_at == created
        assert payment.created_at.tzinfo is not None


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"status": "paid"}, "status_known"),
        ({"amount": Decimal("0.00")}, "amount_positive"),
        ({"refunded_amount": Decimal("300.00")}, "refund_within_amount"),
        ({"kind": "tickets"}, "kind_has_target"),
    ],
)
async def test_payment_constraints(
    sessionmaker: async_sessionmaker[AsyncSession], overrides: dict[str, object], constraint: str
) -> None:
    async with sessionmaker.begin() as session:
        session.add(_user())
    with pytest.raises(IntegrityError, match=constraint):
        async with sessionmaker.begin() as session:
            session.add(_payment("ZT_0000000002", **overrides))


async def test_provider_id_and_idempotence_key_are_unique(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        session.add(_user())
        await session.flush()
        session.add(_payment("ZT_0000000003", provider_id="p-1"))
    with pytest.raises(IntegrityError):
        async with sessionmaker.begin() as session:
            session.add(_payment("ZT_0000000004", provider_id="p-1", idempotence_key="k4"))
    with pytest.raises(IntegrityError):
        async with sessionmaker.begin() as session:
            session.add(_payment("ZT_0000000005", idempotence_key="ZT_0000000003"))


async def test_seats_never_go_negative_or_past_capacity(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        session.add(SlotInventory(visit_date=date(2026, 12, 1), slot_time="10:00", capacity=5))
    for held in (-1, 6):
        with pytest.raises(IntegrityError):
            async with sessionmaker.begin() as session:
                await session.execute(update(SlotInventory).values(held=held))


async def test_ticket_codes_are_unique(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        session.add(_user())
        await session.flush()
        session.add(
            Order(
                id="ZT-20261125-001",
                user_id="1001",
                visit_date=date(2026, 12, 1),
                slot_time="10:00",
                seats=2,
                total=Decimal("2000.00"),
            )
        )
        await session.flush()
        session.add(_payment("ZT_0000000006", kind="tickets", order_id="ZT-20261125-001"))
        await session.flush()
        ticket = {
            "order_id": "ZT-20261125-001",
            "payment_id": "ZT_0000000006",
            "user_id": "1001",
            "ticket_type": "adult",
            "visit_date": date(2026, 12, 1),
            "slot_time": "10:00",
        }
        session.add(Ticket(code="same", **ticket))
    with pytest.raises(IntegrityError):
        async with sessionmaker.begin() as session:
            session.add(Ticket(code="same", **ticket))


async def test_upsert_user_inserts_then_refreshes(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    profile = Profile(id="1001", first_name="Anna", last_name=None, username=None, language="ru")
    async with sessionmaker.begin() as session:
        assert await upsert_user(session, profile, first) is True
    renamed = Profile(id="1001", first_name="Ann", last_name="K", username="ann", language="en")
    async with sessionmaker.begin() as session:
        assert await upsert_user(session, renamed, first + timedelta(hours=1)) is False
    async with sessionmaker() as session:
        user = (await session.execute(select(User))).scalar_one()
        assert (user.first_name, user.language, user.created_at) == ("Ann", "en", first)
        assert user.last_seen_at == first + timedelta(hours=1)
        count = (await session.execute(text("SELECT count(*) FROM users"))).scalar()
        assert count == 1
