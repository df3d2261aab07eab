"""Dialect-aware INSERT … ON CONFLICT for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, String, any_, bindparam, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import BindParameter, ColumnElement


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


def any_of(
    dialect: str,
    column: ColumnElement[Any] | InstrumentedAttribute[Any],
    values: Sequence[str],
) -> ColumnElement[bool]:
    """Return `column` is one of `values`, bound as ONE parameter whatever their number.

    PostgreSQL: `column = ANY(:values)` with a text array. SQLite:
    `column IN (SELECT value FROM json_each(:values))` with a JSON text. A long `IN (…)` list
    makes SQLAlchemy render, and the database parse and plan, a new statement for every
    length; this text is the same for any number of values, so it is compiled once (and
    prepared once by asyncpg).
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(String)))
    return in_json(column, bindparam(None, json.dumps(list(values)), type_=String))


def in_json(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], values: BindParameter[str]
) -> ColumnElement[bool]:
    """SQLite: return `column` is one of the values of the JSON array `values`, a parameter
    (named, for a statement built once and run with each chunk's ids)."""
    rows = func.json_each(values).table_valued("value")
    return column.in_(select(rows.c.value))


def among(dialect: str, column: ColumnElement[Any], rows: Select[Any]) -> ColumnElement[bool]:
    """Return `column` is one of the values `rows` selects, each looked up through `column`'s
    index.

    PostgreSQL: `column = ANY(ARRAY(rows))`: the sub-select runs once and the index is probed
    for each value. As `column IN (rows)` the planner may join instead, and with no statistics
    yet on freshly written rows it scanned every row of the table to do so. SQLite:
    `column IN (rows)`, which SQLite runs that way anyway.
    """
    if dialect == "postgresql":
        return column == any_(func.array(rows.scalar_subquery()))
    return column.in_(rows)
