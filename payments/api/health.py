"""Health checks: `GET /health` and `GET /v1/health`, with a cached database write check."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

router = APIRouter(tags=["system"])

HEALTH_CACHE_SECONDS = 5.0
HEALTH_DB_PATIENCE_SECONDS = 2.0


class Health(BaseModel):
    """The seed's health body."""

    status: str
    timestamp: str


class DatabaseCheck:
    """Says whether the database takes writes; one probe per `ttl` seconds however many ask.

    The probe opens a write transaction, rewrites the one row of `alembic_version` with its
    own value and rolls back. On SQLite the transaction starts with BEGIN IMMEDIATE, so a
    database whose write lock another process keeps is found out; on PostgreSQL the UPDATE
    fails on a read-only server or waits on a lock. Whatever does not finish within `patience`
    seconds counts as down.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: float = HEALTH_CACHE_SECONDS,
        patience: float = HEALTH_DB_PATIENCE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Keep the engine, how long an answer holds and how long a probe may take."""
        self._engine = engine
        self._ttl = ttl
        self._patience = patience
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._checked_at: float | None = None
        self._writable = True

    async def writable(self) -> bool:
        """Return whether the database took a write within the last `ttl` seconds."""
        async with self._lock:  # a flood of calls waits for one probe, then reads its answer
            now = self._monotonic()
            if self._checked_at is None or now - self._checked_at >= self._ttl:
                writable = await self._probe()
                if writable != self._writable:
                    log.log(
                        logging.INFO if writable else logging.WARNING,
                        "health: the database is %s",
                        "writable again" if writable else "not writable",
                    )
                self._writable = writable
                self._checked_at = self._monotonic()
            return self._writable

    async def _probe(self) -> bool:
        try:
            await asyncio.wait_for(self._write(), self._patience)
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            log.debug("health: database write check failed: %r", exc)
            return False
        return True

    async def _write(self) -> None:
        async with self._engine.connect() as connection:
            transaction = await connection.begin()
            try:
                if connection.dialect.name == "postgresql":
                    # Give up on a lock server-side too, not only by cancelling here.
                    timeout_ms = int(self._patience * 800)  # before the cancel below
                    await connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
                await connection.exec_driver_sql(
                    "UPDATE alembic_version SET version_num = version_num"
                )
            finally:
                await transaction.rollback()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_RESPONSES: dict[int | str, dict[str, object]] = {
    503: {
        "description": "A part is down",
        "content": {
            "application/json": {
                "example": {
                    "status": "unhealthy",
                    "timestamp": "2024-10-25T10:00:00Z",
                    "database": "down",
                }
            }
        },
    }
}


async def _answer(request: Request) -> Health | JSONResponse:
    check: DatabaseCheck | None = getattr(request.app.state, "database_check", None)
    if check is not None and not await check.writable():
        return JSONResponse(
            {"status": "unhealthy", "timestamp": _now(), "database": "down"}, status_code=503
        )
    return Health(status="healthy", timestamp=_now())


# ZooTicket's base path has its own (customers' API requests leave it out: payments/api/served.py).
V1_HEALTH_PATH = "/v1/health"


@router.get("/health", response_model=Health, summary="Health check", responses=_RESPONSES)
async def health(request: Request) -> Health | JSONResponse:
    """Answer that the service is up, or 503 naming the part that is down."""
    return await _answer(request)


@router.get(
    V1_HEALTH_PATH,
    response_model=Health,
    summary="Health check (ZooTicket v1)",
    responses=_RESPONSES,
)
async def health_v1(request: Request) -> Health | JSONResponse:
    """Answer that the service is up, under the ZooTicket base path."""
    return await _answer(request)


def setup(app: FastAPI) -> None:
    """Add the health routes."""
    app.include_router(router)


def watch_database(app: FastAPI, check: DatabaseCheck) -> None:
    """Make the health routes answer 503 while the database cannot be written."""
    app.state.database_check = check
