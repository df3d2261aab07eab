"""The plain values settings.py reads: enums, network ranges, the parsers of its fields, and
the one-line message of a bad value.

Imports nothing of ours (settings.py alone imports it), so `python -m settings` stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# YooKassa's published notification ranges (yookassa.md §4.3).
YOOKASSA_NETWORKS = (
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "77.75.154.128/25",
    "2a02:5180::/32",
)
SEED_BYTES = 32
# Settings whose value a message about them never repeats.
_SENSITIVE_SUFFIXES = ("SECRET", "TOKEN", "PASSWORD", "KEY")
_SENSITIVE_KEYS = {"DATABASE_URL", "REDIS_URL"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AppEnv(StrEnum):
    """Deployment environment."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    """Log line format."""

    TEXT = "text"
    JSON = "json"


def split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


def seed_bytes(text: str) -> bytes:
    """Read base64 (standard or URL-safe, padding optional) of exactly 32 bytes."""
    cleaned = text.strip()
    try:
        seed = base64.b64decode(
            cleaned.replace("-", "+").replace("_", "/") + "=" * (-len(cleaned) % 4),
            validate=True,
        )
    except (binascii.Error, ValueError):
        raise ValueError("expected base64 of a 32-byte Ed25519 seed") from None
    if len(seed) != SEED_BYTES:
        raise ValueError(f"expected base64 of 32 bytes, got {len(seed)} bytes")
    return seed


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings and return an async SQLAlchemy URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(
            "not a database URL: expected sqlite+aiosqlite:///path or "
            "postgresql+asyncpg://user:password@host/db"
        ) from exc
    driver = parsed.drivername
    if driver in {"postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername not in {"postgresql+asyncpg", "sqlite+aiosqlite"}:
        raise ValueError(
            f"unsupported database {driver!r}: use sqlite+aiosqlite:/// or postgresql+asyncpg://"
        )
    return parsed.render_as_string(hide_password=False)


def format_validation_error(exc: ValidationError) -> str:
    """Turn a pydantic error into one line naming the key and what is wrong."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(item) for item in error["loc"] if item != "__root__")
        message = str(error["msg"]).removeprefix("Value error, ")
        raw = error.get("input")
        hidden = location.endswith(_SENSITIVE_SUFFIXES) or location in _SENSITIVE_KEYS
        shown = "" if hidden else raw
        hint = f" (got {shown!r})" if isinstance(shown, str | int) and shown != "" else ""
        if hint and repr(shown) in message:
            hint = ""
        parts.append(f"{location}: {message}{hint}" if location else message)
    return "; ".join(parts)
