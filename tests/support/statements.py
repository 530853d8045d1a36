"""The statements a block of code sends to PostgreSQL, whichever way it executes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine, event


@contextmanager
def sent_statements() -> Iterator[list[str]]:
    """While inside, the SQL of every statement a psycopg cursor executes, in order.

    Seen at the driver, so it holds the statements SQLAlchemy executes and those run on the
    driver's cursor (`workflow.driver_execution`) alike; not the BEGIN and COMMIT psycopg
    sends by itself.
    """
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def recording(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    psycopg.Cursor.execute = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]


def first_words(statements: list[str]) -> list[str]:
    """The first word of each statement: SELECT, WITH, INSERT..."""
    return [statement.split(None, 1)[0] for statement in statements]


@contextmanager
def executed_by_sqlalchemy(engine: Engine) -> Iterator[list[str]]:
    """While inside, the SQL of every statement SQLAlchemy's own execution runs on `engine`
    (on any database; not those run on the driver's cursor)."""
    seen: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
