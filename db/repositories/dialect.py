"""Dialect-aware INSERT … ON CONFLICT for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, table: Any) -> Any:
    """Return an INSERT construct with `on_conflict_do_*` for the session's database."""
    return insert_for_dialect(session.get_bind().dialect.name, table)


def insert_for_dialect(dialect: str, table: Any) -> Any:
    """Return an INSERT construct with `on_conflict_do_*` for a dialect name."""
    if dialect == "postgresql":
        # Imported here: a service on SQLite never loads PostgreSQL's dialect (start-up, memory).
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)
