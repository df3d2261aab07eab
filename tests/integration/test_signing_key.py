"""The QR signing key kept in the database: drawn once, the same for every start and instance."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, create_sessionmaker
from db.models import ServiceKey
from payments.tickets.signing import KEY_NAME, TicketSigner, load_signer

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


async def _keys(sessionmaker: async_sessionmaker[AsyncSession]) -> list[ServiceKey]:
    async with sessionmaker() as session:
        return list((await session.execute(select(ServiceKey))).scalars())


async def test_the_first_start_draws_a_key_and_every_later_start_reads_it(
    sessionmaker: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = await load_signer(sessionmaker, None, NOW)
    again = await load_signer(sessionmaker, None, NOW)
    assert "QR signing key" in caplog.text
    assert again.public_key == first.public_key
    (stored,) = await _keys(sessionmaker)
    assert stored.name == KEY_NAME and stored.created_at == NOW
    # Never logged: neither the stored value nor any encoding of the seed.
    seed = base64.urlsafe_b64decode(stored.value + "=" * (-len(stored.value) % 4))
    assert first.public_key == TicketSigner(seed).public_key
    logged = caplog.text
    for secret in (stored.value, base64.b64encode(seed).decode(), seed.hex()):
        assert secret not in logged
    # The operator learns which key signs once it is first used (it is made then, not at start).
    assert f"QR signing key {first.key_id} in use" in logged


async def test_a_configured_seed_wins_and_the_database_is_left_alone(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    seed = bytes(range(32))
    signer = await load_signer(sessionmaker, seed, NOW)
    assert signer.public_key == TicketSigner(seed).public_key
    assert await _keys(sessionmaker) == []


async def test_instances_starting_at_once_end_with_one_key(
    engine: AsyncEngine, database_url: str
) -> None:
    """Each instance has its own engine; every round races them on a key not yet drawn."""
    engines = [create_engine(database_url) for _ in range(4)]
    makers = [create_sessionmaker(e) for e in engines]
    try:
        for _ in range(5):
            signers = await asyncio.gather(*(load_signer(m, None, NOW) for m in makers))
            assert len({s.public_key for s in signers}) == 1
            assert len(await _keys(makers[0])) == 1
            async with makers[0].begin() as session:
                await session.execute(delete(ServiceKey))
    finally:
        for each in engines:
            await each.dispose()


@pytest.mark.parametrize(
    "value",
    ["hunter2!not+base64url", base64.urlsafe_b64encode(bytes(31)).decode().rstrip("=")],
)
async def test_a_damaged_stored_key_stops_the_start_without_showing_it(
    sessionmaker: async_sessionmaker[AsyncSession], value: str
) -> None:
    """A key that is not what this service writes is not replaced behind the operator's back
    (every printed ticket would read as forged): the start fails, naming the row, not its value."""
    async with sessionmaker.begin() as session:
        session.add(ServiceKey(name=KEY_NAME, value=value, created_at=NOW))
    with pytest.raises(RuntimeError, match="service_keys") as caught:
        await load_signer(sessionmaker, None, NOW)
    assert value not in str(caught.value)
    (kept,) = await _keys(sessionmaker)
    assert kept.value == value
