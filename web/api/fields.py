"""Fields the API schemas build on, documented as they are validated: ids, integers and
booleans in query strings, free text and one-line text."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate

from web.input_limits import MAX_ID
from web.messages import render

#: Ids are PostgreSQL INTEGERs; anything outside is refused before it reaches SQL.
ID_RANGE = validate.Range(min=1, max=MAX_ID)

#: Every string refuses control characters but tab and line breaks (checked for every request
#: by `web.input_limits`; written here so that the OpenAPI document says so).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]*$"
#: One-line strings refuse line breaks too.
LINE_PATTERN = r"^[^\x00-\x08\x0a-\x1f\x7f-\x9f]*$"

#: Characters that start a new line.
_LINE_BREAK = re.compile("[\n\r\x85]")
#: An integer as a query string writes it: ASCII digits, nothing else.
_DIGITS = re.compile(r"[0-9]{1,18}")


def _one_line(value: str) -> None:
    """Refuse line breaks (in English, like marshmallow's own messages; translated later)."""
    if _LINE_BREAK.search(value):
        raise ValidationError(render("single_line", {}, "en"))


def _with_metadata(kwargs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """`kwargs` with `extra` added to the field's OpenAPI metadata."""
    return {**kwargs, "metadata": {**kwargs.get("metadata", {}), **extra}}


class Text(fields.String):
    """Free text: line breaks and tabs allowed, other control characters not."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_metadata(kwargs, pattern=TEXT_PATTERN))


class Line(fields.String):
    """One line of text: no line breaks either."""

    def __init__(self, **kwargs: Any) -> None:
        given = kwargs.pop("validate", None)
        rules = [] if given is None else list(given) if isinstance(given, list | tuple) else [given]
        super().__init__(validate=[*rules, _one_line],
                         **_with_metadata(kwargs, pattern=LINE_PATTERN))


class QueryInteger(fields.Integer):
    """An integer in a query string: ASCII digits only (no sign, space, `_` or other digits)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class WholeNumber(fields.Integer):
    """An integer in a JSON body: a JSON number without a fraction (2, or 2.0 as JSON Schema
    counts integers too), never 1.5 read as 1, "1" or true."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


def id_field(**kwargs: Any) -> WholeNumber:
    """An id in a JSON body, within INTEGER's range."""
    return WholeNumber(validate=ID_RANGE, **kwargs)


def query_id(**kwargs: Any) -> QueryInteger:
    """An id in a query string."""
    return QueryInteger(validate=ID_RANGE, **kwargs)


def query_flag(**kwargs: Any) -> fields.Boolean:
    """A flag in a query string: exactly `true` or `false`."""
    return fields.Boolean(truthy={"true"}, falsy={"false"}, **kwargs)


class Flag(fields.Boolean):
    """A boolean in a JSON body: true or false, not 1, "yes" or "true"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
