"""Whole numbers the pages read from query strings and hidden fields: ASCII digits within
PostgreSQL's INTEGER, else a default (never int() of 5,000 digits, nor of "１")."""

from __future__ import annotations

from flask import request

from web.input_limits import MAX_ID
from workflow.paging import Position

#: The furthest page a list goes to by number.
MAX_PAGE = 100_000


def whole_number(text: object, default: int | None = None) -> int | None:
    """`text` as a number from 1 to MAX_ID, or `default`."""
    value = str(text or "")
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_ID))):
        return default
    number = int(value)
    return number if 0 < number <= MAX_ID else default


def int_arg(name: str, default: int | None = None) -> int | None:
    """The query argument `name` as a whole number, or `default`."""
    return whole_number(request.args.get(name), default)


def position_args(page: int | None = None) -> Position:
    """Where the list page asked for starts: `page` (else the query's) and its link's cursor."""
    number = page if page is not None else int_arg("page", 1) or 1
    return Position(min(number, MAX_PAGE), request.args.get("after") or None,
                    request.args.get("before") or None)
