"""Health checks: `GET /health` and `GET /v1/health`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

router = APIRouter(tags=["system"])


class Health(BaseModel):
    """The seed's health body."""

    status: str
    timestamp: str


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get("/health", response_model=Health, summary="Health check")
async def health() -> Health:
    """Answer that the service is up."""
    return Health(status="healthy", timestamp=_now())


@router.get("/v1/health", response_model=Health, summary="Health check (ZooTicket v1)")
async def health_v1() -> Health:
    """Answer that the service is up, under the ZooTicket base path."""
    return Health(status="healthy", timestamp=_now())


def setup(app: FastAPI) -> None:
    """Add the health routes."""
    app.include_router(router)
