"""Whole numbers the pages read from query strings and hidden fields: ASCII digits within
PostgreSQL's INTEGER, else a default (never int() of 5,000 digits, nor of "１")."""

from __future__ import annotations

from flask import request

from web.input_limits import MAX_ID


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
