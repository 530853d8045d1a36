"""The declarative base with its naming convention, and SQL helpers every table shares."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from psycopg.pq import TransactionStatus
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    literal_column,
)
from sqlalchemy.engine import Connection, Dialect, Result
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from workflow.driver_execution import execute_on_driver, plan_for


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    """The declarative base of every agentdesk table."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


#: A sort key column: compared by code point on both databases.
SORT_KEY = Text().with_variant(Text(collation="C"), "postgresql")


def constant(value: str) -> ColumnElement[str]:
    """A string constant written into the SQL text when the statement is compiled.

    Not a bound parameter: a prepared statement's generic plan could not use the partial
    indexes its value selects. Not `literal_execute` either, which renders the same text
    again at every execution of the cached statement.
    """
    return literal_column("'" + value.replace("'", "''") + "'", String)


def constant_number(value: int) -> ColumnElement[int]:
    """An integer written into the SQL text, for numbers fixed by the code (limits, steps):
    a bound parameter would make a hot statement longer than psycopg's parse cache takes."""
    return literal_column(str(int(value)), Integer)


def on_postgresql(session: Session) -> bool:
    """Whether `session` talks to PostgreSQL (which some statements need or make faster)."""
    return session.get_bind().dialect.name == "postgresql"


def table(model: type[Base]) -> Table:
    """The Core table behind a model, for hot paths that need no unit of work."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


#: The prefix `binds_prefixed` gives bind parameters' names.
BIND_PREFIX = "b_"


def binds_prefixed(statement: Select[Any]) -> Select[Any]:
    """`statement` with `BIND_PREFIX` before the name of each of its named bind parameters.

    An UPDATE, even inside a CTE, takes any parameter named after a column of its table as a
    value to set: a statement that updates binds no such name. Its parameters then go
    through `prefixed`.
    """
    def renamed(element: Any, **_: Any) -> Any:
        if isinstance(element, BindParameter) and not element.unique:  # unique: anonymous
            return bindparam(BIND_PREFIX + element.key, type_=element.type)
        return None
    return cast(Select[Any], replacement_traverse(statement, {}, renamed))


def prefixed(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters for a statement of `binds_prefixed`."""
    return {BIND_PREFIX + name: value for name, value in params.items()}


def execute_alone(session: Session, statement: Executable,
                  params: Mapping[str, Any] | None = None) -> Result[Any]:
    """Execute `statement` in `session`; on PostgreSQL with no transaction open yet, as a
    transaction of its own, saving the BEGIN round trip (and COMMIT's, for a write).

    For a plain read (no lock), or for a write the caller commits at once with nothing else
    pending: under READ COMMITTED every statement reads its own snapshot anyway, so such a
    statement sees and does the same inside a transaction or alone. The rows are fetched
    before the connection goes back to opening transactions. A statement that runs alone
    runs on psycopg's cursor, compiled once (`workflow.driver_execution`).
    """
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    if not _may_run_alone(connection, session, driver):
        return connection.execute(statement, params)
    plan = plan_for(statement, connection.dialect)
    with _autocommit(driver):
        if plan is None:
            return connection.execute(statement, params)
        return execute_on_driver(connection, plan, params)


@contextmanager
def alone(session: Session) -> Iterator[Connection]:
    """While inside, what `session` executes runs as `execute_alone` says, when it may; for
    ORM queries, whose objects must land in the session (psycopg fetches every row at once,
    so they are read before the connection goes back to opening transactions)."""
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    if not _may_run_alone(connection, session, driver):
        yield connection
        return
    with _autocommit(driver):
        yield connection


@contextmanager
def _autocommit(driver: Any) -> Iterator[None]:
    """psycopg committing each statement while inside (unless the connection broke)."""
    driver.autocommit = True
    try:
        yield
    finally:
        if not driver.closed:
            driver.autocommit = False


def _may_run_alone(connection: Connection, session: Session, driver: Any) -> bool:
    """Whether psycopg is idle (no transaction open) and the session holds no unflushed
    change that a later flush would write in a transaction of its own."""
    return (connection.dialect.driver == "psycopg"
            and not driver.autocommit
            and driver.info.transaction_status == TransactionStatus.IDLE
            and not (session.new or session.deleted or session.dirty))
