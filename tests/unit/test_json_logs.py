"""The JSON log format and the request id a client may send."""

from __future__ import annotations

import json
import logging
import sys

from flask import Flask

from tasks.logs import JsonFormatter, bound, sane_request_id


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    """A log record as a logger would make it."""
    made = logging.makeLogRecord({"name": "tasks.actors", "levelname": "INFO",
                                  "levelno": logging.INFO, "msg": message, "args": args})
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_record_is_one_json_line_with_the_ids_bound_to_its_work() -> None:
    with bound(request_id="req-1", ticket_id=42):
        line = JsonFormatter().format(record("ticket %s:\nprovisioned", 42))
    assert "\n" not in line
    entry = json.loads(line)
    assert {key: entry[key] for key in ("level", "logger", "message", "request_id",
                                        "ticket_id")} == {
        "level": "INFO", "logger": "tasks.actors", "message": "ticket 42:\nprovisioned",
        "request_id": "req-1", "ticket_id": 42}
    assert entry["time"].endswith("+00:00")
    # Outside the block the ids are gone
    assert "request_id" not in json.loads(JsonFormatter().format(record("idle")))


def test_extra_fields_and_exceptions_are_kept() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        failed = record("failed", status="500")
        failed.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(failed))
    assert entry["status"] == "500" and "ValueError: bad" in entry["exception"]


def test_a_client_may_choose_a_short_sane_id_only() -> None:
    assert sane_request_id("abc-123_x.y:z") == "abc-123_x.y:z"
    for hostile in ("", None, "a" * 65, "two words", 'x"}\n{"level":"ERROR"', "ä"):
        made = sane_request_id(hostile)
        assert made != hostile and len(made) == 32


def test_the_id_is_returned_in_the_response_header(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "mine-1"}).headers[
        "X-Request-ID"] == "mine-1"
    made = client.get("/healthz", headers={"X-Request-ID": "no good"}).headers["X-Request-ID"]
    assert made != "no good" and len(made) == 32
    assert len(client.get("/no-such-page").headers["X-Request-ID"]) == 32
