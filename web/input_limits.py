"""Limits every request meets before any handler runs: body size, the shape of JSON bodies,
the characters of every string (JSON, form fields, query arguments) and ids in paths."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, request
from webargs.core import is_json
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter, Map, ValidationError

from web.errors import error_response
from web.i18n import current_language
from web.messages import render

#: Largest body other than a file upload (uploads keep the app's MAX_CONTENT_LENGTH).
BODY_LIMIT = 1024 * 1024
#: Where `check_input` leaves the JSON body it parsed and found clean (in the WSGI environ).
CHECKED_JSON = "agentdesk.checked_json"
#: Deepest nesting of arrays and objects in a JSON body.
MAX_DEPTH = 32
#: Most digits of an integer in a JSON body (ids need 10; Python refuses more than 4,300).
MAX_DIGITS = 18
#: Largest id: PostgreSQL's INTEGER (SQLite would take more, so both refuse it here).
MAX_ID = 2**31 - 1

#: What no string may hold: C0 controls but tab, line feed and carriage return; DEL; C1
#: controls but NEL (a line break: free text keeps it, one-line fields refuse it with their
#: own message next to the field); lone surrogates (no database can store them).
REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")

#: Bodies whose fields are read as a form.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: Methods whose body a handler reads.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class IdConverter(BaseConverter):
    """`<int:…>` in routes: ASCII digits within PostgreSQL's INTEGER; anything else is 404."""

    regex = r"[0-9]{1,10}"
    weight = 50
    part_isolating = True

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class Refused(Exception):
    """The body as a whole is refused (status and message code)."""

    def __init__(self, status: int, code: str, **params: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.params = status, code, params


class _LongInteger(str):
    """An integer literal with more digits than MAX_DIGITS, kept as text to be named."""


def install_input_limits(app: Flask) -> None:
    """Make `<int:…>` the id converter (before any route) and check every request first."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_input)


def check_input() -> tuple[Response, int] | None:
    """Refuse oversize bodies (413), malformed or too deep JSON (400), strings with refused
    characters and too long integers (422 naming each field), before any handler."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    mimetype = req.mimetype
    if mimetype != "multipart/form-data":
        req.max_content_length = BODY_LIMIT
    limit = req.max_content_length
    if limit is not None and (req.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    problems: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, value in req.args.items(multi=True):
        _check_text(name, value, problems)
    if req.method in BODY_METHODS and mimetype in FORM_TYPES:
        for name, value in req.form.items(multi=True):
            _check_text(name, value, problems)
    try:
        if (req.method in BODY_METHODS and is_json(mimetype)
                and (body := req.get_data(cache=True))):
            document = parse_json(body)
            _check_json(document, problems)
            if not problems:  # nothing kept as `_LongInteger`: the views may take it as is
                req.environ[CHECKED_JSON] = document
    except Refused as refused:
        return error_response(refused.status, refused.code, refused.params)
    if not problems:
        return None
    language = current_language()
    errors = {name: [render(code, params, language) for code, params in found]
              for name, found in sorted(problems.items())}
    return error_response(422, "invalid", errors=errors)


def parse_json(body: bytes) -> Any:
    """The JSON document of `body`, with too long integers kept as `_LongInteger`."""
    try:
        return json.loads(body.decode("utf-8"), parse_int=_integer, parse_constant=_no_constant)
    except RecursionError:  # the C parser's own guard, far deeper than MAX_DEPTH
        raise Refused(400, "json_too_deep", max=MAX_DEPTH) from None
    except ValueError:  # bad UTF-8, bad syntax, NaN or Infinity
        raise Refused(400, "malformed_json") from None


def _integer(text: str) -> int | _LongInteger:
    """An integer literal, unless it is too long to be anything this API takes."""
    if len(text.lstrip("-")) > MAX_DIGITS:
        return _LongInteger(text)
    return int(text)


def _no_constant(name: str) -> None:
    """NaN and Infinity are not JSON."""
    raise ValueError(name)


def _check_json(document: Any, problems: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    """Walk the document without recursion: depth, integers, and every key and string."""
    pending: list[tuple[str, Any, int]] = [("", document, 0)]
    while pending:
        path, value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise Refused(400, "json_too_deep", max=MAX_DEPTH)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                name = f"{path}.{_visible(str(key))}" if path else _visible(str(key))
                if isinstance(key, str) and REFUSED.search(key):
                    problems.setdefault(name, []).append(("text_refused", {}))
                pending.append((name, item, depth + 1))
        elif isinstance(value, _LongInteger):
            problems.setdefault(path or "_schema", []).append(
                ("number_too_long", {"max": MAX_DIGITS}))
        elif isinstance(value, str) and REFUSED.search(value):
            problems.setdefault(path or "_schema", []).append(("text_refused", {}))


def _check_text(name: str, value: str, problems: dict[str, list[tuple[str, dict[str, Any]]]]
                ) -> None:
    """A form field or query argument: its name and its value."""
    if REFUSED.search(name) or REFUSED.search(value):
        problems.setdefault(_visible(name), []).append(("text_refused", {}))


def _visible(name: str) -> str:
    """A field name fit to be echoed: each refused character as a \\u escape (\\u0007)."""
    return REFUSED.sub(lambda found: f"\\u{ord(found.group()):04x}", name)
