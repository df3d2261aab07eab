"""A statement compiled once, run on the driver's connection without SQLAlchemy's pipeline.

The reads customers cause on every update (/my: three indexed look-ups) spent four fifths of
their time in `Connection.execute` (building the execution context, its parameters, the
CursorResult and its rows), not in SQLite. A plan keeps what that work produces for a
statement built once with bind parameters: the SQL text, each positional parameter's source
(the caller's value or the statement's own literal) and bind processor, each column's result
processor and a row type with the same names, indexes and slices as SQLAlchemy's rows.

The same goes for the one-row writes of a payment's transaction (db/writes.py): an INSERT,
UPDATE or DELETE is compiled for the keys the caller gives, with each constant default's value
in place of what SQLAlchemy's execution context would fill in, and its RETURNING columns read
back like a SELECT's.

On PostgreSQL a plan runs on asyncpg (`fetch`), on the very connection SQLAlchemy's session
or Reader holds: its prepared statement comes from that connection's statement cache, as
SQLAlchemy's own execution takes it, and a transaction is begun first unless the connection is
in AUTOCOMMIT. The event loop's CPU for a write inside a transaction fell from 0.20 to 0.08 ms,
for a read inside one from 0.31 to 0.10 ms, and for the Reader's read (its pool checkout
included) from 0.43 to 0.29 ms.

Statements SQLAlchemy rewrites per call (expanding IN, literal execution) or whose defaults are
computed per row have no plan; the Reader and db.writes run those the ordinary way.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

Processor = Callable[[Any], Any] | None
# A parameter: the caller's key, the statement's own value when the caller gives none, whether
# the caller must give it, and its bind processor.
Param = tuple[str, Any, bool, Processor]
# Statements whose plan is kept: the module-level ones are a few dozen; a statement built per
# call past this many runs the ordinary way instead of filling memory.
PLANS_KEPT = 256
# The row count in a command's status ("UPDATE 1", "INSERT 0 1"), as SQLAlchemy's asyncpg
# cursor reads it.
_STATUS_COUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


class Plan:
    """One statement's SQL, parameters and row making, ready to run on the driver."""

    __slots__ = ("_dialect", "_params", "_ready", "_results", "_row", "_sql", "_types")

    def __init__(
        self,
        sql: str,
        params: Sequence[Param],
        types: Sequence[Any],
        keys: Sequence[str],
        dialect: Dialect,
    ) -> None:
        """Keep the compiled parts; `build` makes them from a statement.

        SQLite's result processors need no column type from the driver, so they are made here;
        asyncpg's (a number's depends on the column's type oid) on the first fetch.
        """
        self._sql = sql
        self._params = tuple(params)
        self._dialect = dialect
        self._types = tuple(t.dialect_impl(dialect) for t in types)
        self._results: tuple[Processor, ...] | None = None  # None: no column needs one
        self._ready = dialect.name != "postgresql"
        if self._ready:
            self._set_results([None] * len(types))
        self._row: Any = namedtuple("Row", keys, rename=True)  # type: ignore[misc]  # noqa: PYI024

    def _set_results(self, coltypes: Sequence[Any]) -> None:
        results = [
            t.result_processor(self._dialect, c) for t, c in zip(self._types, coltypes, strict=True)
        ]
        self._results = tuple(results) if any(p is not None for p in results) else None
        self._ready = True

    @classmethod
    def build(cls, statement: Any, dialect: Dialect) -> Plan | None:
        """Compile a SELECT of columns; None if it needs per-call rewriting."""
        if not isinstance(statement, Select):
            return None
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # noqa: S101 - a Select compiles so
        params = _params(compiled, dialect, {})
        if params is None:
            return None
        types = [c.type for c in statement.selected_columns]
        return cls(str(compiled), params, types, list(statement.selected_columns.keys()), dialect)

    @classmethod
    def build_write(
        cls, statement: UpdateBase, dialect: Dialect, keys: Sequence[str]
    ) -> Plan | None:
        """Compile a Core INSERT, UPDATE or DELETE for the parameter `keys` a caller gives.

        None when running it in place would not do what SQLAlchemy does: an ORM statement
        (autoflush, the session's objects), per-call rewriting, or a default that is not a
        constant (a function SQLAlchemy calls per row).
        """
        if statement._propagate_attrs or not statement.is_dml:  # noqa: SLF001 - ORM or not
            return None
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)  # noqa: S101 - DML compiles so
        defaults: dict[str, Any] = {}
        for column in compiled.insert_prefetch:
            if column.default is None or not column.default.is_scalar:
                return None
            defaults[column.key] = column.default.arg  # type: ignore[attr-defined]
        for column in compiled.update_prefetch:
            if column.onupdate is None or not column.onupdate.is_scalar:
                return None
            defaults[column.key] = column.onupdate.arg  # type: ignore[attr-defined]
        params = _params(compiled, dialect, {k: v for k, v in defaults.items() if k not in keys})
        if params is None:
            return None
        columns = list(compiled.returning or ())
        return cls(
            str(compiled), params, [c.type for c in columns], [c.key for c in columns], dialect
        )

    def write(self, connection: Any, given: Mapping[str, Any]) -> tuple[int, list[Any]]:
        """Run a write plan on a pysqlite connection; return (rows changed, returned rows)."""
        cursor = connection.execute(self._sql, self._values(given))
        rows = self._rows(cursor.fetchall())  # RETURNING's rows; the count is final after them
        return cursor.rowcount, rows

    def _values(self, given: Mapping[str, Any]) -> list[Any]:
        values = []
        for key, own, required, processor in self._params:
            value = given[key] if required or key in given else own
            values.append(processor(value) if processor is not None else value)
        return values

    def _rows(self, raw: Sequence[Any]) -> list[Any]:
        make = self._row._make
        results = self._results
        if results is None:
            return [make(row) for row in raw]
        return [
            make([v if p is None else p(v) for p, v in zip(results, row, strict=True)])
            for row in raw
        ]

    async def fetch_alone(
        self, connection: AsyncConnection, given: Mapping[str, Any]
    ) -> tuple[int, list[Any]]:
        """Run it (`fetch`) on a connection checked out on its own (a Reader's read, a write
        that is its own transaction); a lost connection is invalidated, so the pool never
        hands it out again."""
        raw = await connection.get_raw_connection()
        try:
            return await self.fetch(raw.dbapi_connection, given)
        except DBAPIError as error:
            if error.connection_invalidated:
                await connection.invalidate(error.orig)
            raise

    async def fetch(self, adapter: Any, given: Mapping[str, Any]) -> tuple[int, list[Any]]:
        """Run it on SQLAlchemy's asyncpg adapter of a checked-out connection; return (rows
        changed, rows), raising what SQLAlchemy would raise (callers catch IntegrityError).
        When the connection is lost the error says so (`connection_invalidated`), and the
        caller must invalidate its connection, which SQLAlchemy's execution would have done.

        As SQLAlchemy's asyncpg cursor does: under the connection's execution lock, a
        transaction begun first unless in AUTOCOMMIT, the prepared statement from the
        connection's cache, the count read from the command's status.
        """
        values = self._values(given)
        dialect: Any = self._dialect
        try:
            async with adapter._execute_mutex:  # noqa: SLF001 - as SQLAlchemy's cursor runs
                if adapter._transaction is None:  # noqa: SLF001 - its transaction
                    await adapter._start_transaction()  # noqa: SLF001 - none in AUTOCOMMIT
                try:
                    prepared, attributes = await adapter._prepare(  # noqa: SLF001 - its statement cache
                        self._sql,
                        dialect._invalidate_schema_cache_asof,  # noqa: SLF001 - as the cursor passes it
                    )
                    raw = await prepared.fetch(*values)
                    status = prepared.get_statusmsg()
                except Exception as error:  # noqa: BLE001 - translated as the cursor does
                    adapter._handle_exception(error)  # noqa: SLF001 - raises
        except dialect.loaded_dbapi.Error as error:
            # A lost connection is flagged, as SQLAlchemy flags it; the caller invalidates it.
            raise DBAPIError.instance(
                self._sql,
                given,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=dialect.is_disconnect(error, adapter, None),
                dialect=dialect,
            ) from error
        if not self._ready:
            self._set_results([a.type.oid for a in attributes])
        found = _STATUS_COUNT.match(status or "")
        return (int(found.group(1)) if found else -1), self._rows(raw)

    @property
    def sql(self) -> str:
        """The statement's SQL text."""
        return self._sql

    def run(self, connection: Any, given: Mapping[str, Any]) -> list[Any]:
        """Run it on a pysqlite connection with the caller's parameters; return its rows."""
        return self._rows(connection.execute(self._sql, self._values(given)).fetchall())


def _params(
    compiled: SQLCompiler, dialect: Dialect, defaults: Mapping[str, Any]
) -> list[Param] | None:
    """Each positional parameter's source and bind processor; None if SQLAlchemy would rewrite
    the statement per call. `defaults`: values SQLAlchemy's execution context fills in."""
    if compiled.post_compile_params or compiled.literal_execute_params:
        return None
    params: list[Param] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if bind.expanding:
            return None
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.key in defaults:
            params.append((bind.key, defaults[bind.key], False, processor))
        else:
            value = None if bind.required else bind.effective_value
            params.append((bind.key, value, bind.required, processor))
    return params


# Plans by statement, the parameter keys of a write (an INSERT's columns follow them; None for a
# SELECT) and the driver they were compiled for; None where a statement has no plan.
_kept: dict[tuple[Any, tuple[str, ...] | None, str], Plan | None] = {}


def planned(dialect: Dialect) -> bool:
    """Whether statements on this dialect's driver run by plans: SQLite's, and asyncpg."""
    return dialect.name == "sqlite" or dialect.driver == "asyncpg"


def plan_for(statement: Any, dialect: Dialect, keys: Iterable[str] | None = None) -> Plan | None:
    """Return the statement's plan, compiled on its first use: a SELECT of columns, or (with the
    keys a caller gives) an INSERT, UPDATE or DELETE; None when it must run the ordinary way."""
    key = (statement, None if keys is None else tuple(sorted(keys)), dialect.driver)
    if key in _kept:
        return _kept[key]
    if key[1] is None:
        plan = Plan.build(statement, dialect)
    elif isinstance(statement, UpdateBase):
        plan = Plan.build_write(statement, dialect, key[1])
    else:
        plan = None
    if len(_kept) < PLANS_KEPT:
        _kept[key] = plan
    return plan
