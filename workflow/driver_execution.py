"""Statements that run alone on PostgreSQL, compiled once and executed on psycopg's cursor.

SQLAlchemy's execution path costs about 0.1 ms of client CPU per statement on top of
psycopg's own work: 0.3-0.4 of the 1.4-1.5 ms a submission's three statements cost in
process. A statement run alone (`workflow.db.execute_alone`) skips it: SQLAlchemy compiles it
once, and this module keeps what callers rely on: bind and result type processing, rows as
SQLAlchemy `Row`s, errors translated as SQLAlchemy translates them (an `IntegrityError` for a
lost unique race), a broken connection invalidated. It does not run SQLAlchemy's cursor
events or statement echo. Statements it cannot run as compiled (expanding or literal-execute
parameters, Python-side defaults, escaped bind names, schema translation) return no plan and
go through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from psycopg.pq import ExecStatus
from sqlalchemy.engine import Connection, Dialect, IteratorResult, Result
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Columns:
    """What a plan's rows are: their keys, and each column's result processor (None when no
    column has one)."""

    metadata: SimpleResultMetaData
    processors: tuple[Processor | None, ...] | None


@dataclass
class DriverPlan:
    """A statement compiled once for one dialect, with what its execution needs."""

    sql: str
    compiled: SQLCompiler
    bind_processors: Mapping[str, Processor]
    result_types: tuple[Any, ...] | None
    #: Learnt at the first execution that returns rows (the driver's column types).
    columns: _Columns | None = field(default=None)


@lru_cache(maxsize=256)
def plan_for(statement: Executable, dialect: Dialect) -> DriverPlan | None:
    """`statement` compiled for `dialect`, or None when it must go through SQLAlchemy.

    Cached per statement object: pass module-level (or cached) statements.
    """
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or _needs_sqlalchemy(compiled):
        return None
    processors = {
        name: processor for bind, name in compiled.bind_names.items()
        if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }
    exported = getattr(statement, "exported_columns", None)
    types = tuple(column.type for column in exported) if exported is not None else None
    return DriverPlan(compiled.string, compiled, processors, types)


def _needs_sqlalchemy(compiled: SQLCompiler) -> bool:
    """Whether executing `compiled` takes more than its string and its parameters."""
    return bool(compiled.post_compile_params or compiled.literal_execute_params
                or compiled.insert_prefetch or compiled.update_prefetch
                or compiled.escaped_bind_names or compiled.schema_translate_map
                or compiled.positional)


def execute_on_driver(connection: Connection, plan: DriverPlan,
                      params: Mapping[str, Any] | None) -> Result[Any]:
    """Run `plan` with `params` on `connection`'s psycopg connection, as it stands."""
    values = plan.compiled.construct_params(params, escape_names=False)
    for name, process in plan.bind_processors.items():
        values[name] = process(values[name])
    driver: Any = connection.connection.driver_connection
    dialect = connection.dialect
    with driver.cursor() as cursor:
        try:
            cursor.execute(plan.sql, values)
            returned = cursor.pgresult.status == ExecStatus.TUPLES_OK
            rows: Sequence[Any] = cursor.fetchall() if returned else []
        except dialect.loaded_dbapi.Error as error:
            raise _translated(connection, cursor, plan.sql, values, error) from error
        columns = plan.columns or _learn_columns(plan, dialect, cursor.description)
    if columns.processors is not None:
        rows = [_processed(row, columns.processors) for row in rows]
    return IteratorResult(columns.metadata, iter(rows))


def _learn_columns(plan: DriverPlan, dialect: Dialect, description: Any) -> _Columns:
    """Keys and result processors of `plan`'s rows, from the driver's first description."""
    if description is None:
        columns = _Columns(SimpleResultMetaData([]), None)
    else:
        types = plan.result_types if plan.result_types is not None \
            and len(plan.result_types) == len(description) else (None,) * len(description)
        processors = tuple(
            kind.dialect_impl(dialect).result_processor(dialect, column.type_code)
            if kind is not None else None
            for kind, column in zip(types, description, strict=True)
        )
        columns = _Columns(SimpleResultMetaData([column.name for column in description]),
                           processors if any(processors) else None)
    plan.columns = columns
    return columns


def _processed(row: Sequence[Any], processors: tuple[Processor | None, ...]) -> tuple[Any, ...]:
    """`row` with each value through its column's result processor."""
    return tuple(value if process is None else process(value)
                 for value, process in zip(row, processors, strict=True))


def _translated(connection: Connection, cursor: Any, sql: str, values: Mapping[str, Any],
                error: Any) -> BaseException:
    """`error` as SQLAlchemy raises it, the connection invalidated when it is broken."""
    dialect = connection.dialect
    broken = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if broken:
        connection.invalidate(error)
    return DBAPIError.instance(sql, values, error, dialect.loaded_dbapi.Error,
                               hide_parameters=connection.engine.hide_parameters,
                               connection_invalidated=broken, dialect=dialect)
