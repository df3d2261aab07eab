"""A SELECT of columns compiled once for pysqlite, run without SQLAlchemy's execution pipeline.

The reads customers cause on every update (/my: three indexed look-ups) spent four fifths of
their time in `Connection.execute` (building the execution context, its parameters, the
CursorResult and its rows), not in SQLite. A plan keeps what that work produces for a
statement built once with bind parameters: the SQL text, each positional parameter's source
(the caller's value or the statement's own literal) and bind processor, each column's result
processor and a row type with the same names, indexes and slices as SQLAlchemy's rows.

Statements SQLAlchemy rewrites per call (expanding IN, literal execution) have no plan; the
Reader runs those the ordinary way.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None
# A parameter: the caller's key, the statement's own value when the caller gives none, whether
# the caller must give it, and its bind processor.
Param = tuple[str, Any, bool, Processor]


class SqlitePlan:
    """One SELECT's SQL, parameters and row making, ready to run on a pysqlite connection."""

    __slots__ = ("_params", "_results", "_row", "_sql")

    def __init__(
        self, sql: str, params: Sequence[Param], results: Sequence[Processor], keys: Sequence[str]
    ) -> None:
        """Keep the compiled parts; `build` makes them from a statement."""
        self._sql = sql
        self._params = tuple(params)
        self._results = tuple(results) if any(p is not None for p in results) else None
        self._row: Any = namedtuple("Row", keys, rename=True)  # type: ignore[misc]  # noqa: PYI024

    @classmethod
    def build(cls, statement: Any, dialect: Dialect) -> SqlitePlan | None:
        """Compile a SELECT of columns for SQLite; None if it needs per-call rewriting."""
        if not isinstance(statement, Select):
            return None
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # noqa: S101 - a Select compiles so
        if compiled.post_compile_params or compiled.literal_execute_params:
            return None
        params: list[Param] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.expanding:
                return None
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            value = None if bind.required else bind.effective_value
            params.append((bind.key, value, bind.required, processor))
        columns = list(statement.selected_columns)
        results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        return cls(str(compiled), params, results, list(statement.selected_columns.keys()))

    @property
    def sql(self) -> str:
        """The statement's SQL text."""
        return self._sql

    def run(self, connection: Any, given: Mapping[str, Any]) -> list[Any]:
        """Run it on a pysqlite connection with the caller's parameters; return its rows."""
        values = []
        for key, own, required, processor in self._params:
            value = given[key] if required or key in given else own
            values.append(processor(value) if processor is not None else value)
        raw = connection.execute(self._sql, values).fetchall()
        make = self._row._make
        results = self._results
        if results is None:
            return [make(row) for row in raw]
        return [
            make([v if p is None else p(v) for p, v in zip(results, row, strict=True)])
            for row in raw
        ]
