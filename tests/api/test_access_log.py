"""The access log `agentdesk serve` writes: one line per request, never a secret."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from werkzeug.test import Client

from web.access_log import AccessLog, loggable_path

ACCESS = "agentdesk.access"


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The access-log lines captured so far."""
    return [record.getMessage() for record in caplog.records if record.name == ACCESS]


def test_each_request_is_one_line_with_method_path_status_duration_and_client(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the app behind the access log
    client = Client(AccessLog(app), use_cookies=False)
    caplog.set_level(logging.INFO, logger=ACCESS)

    # When a client checks the health and asks for a page that does not exist
    assert client.get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.7"},
                      buffered=True).status_code == 200
    assert client.get("/no-such-page", environ_base={"REMOTE_ADDR": "198.51.100.9"},
                      buffered=True).status_code == 404

    # Then each request is one line: client, method, path, status, duration
    first, second = lines(caplog)
    assert first.startswith("203.0.113.7 GET /healthz 200 ") and first.endswith(" ms")
    assert second.startswith("198.51.100.9 GET /no-such-page 404 ")
    assert float(first.split()[-2]) >= 0


def test_query_strings_and_one_time_tokens_stay_out_of_the_log(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the app behind the access log
    client = Client(AccessLog(app), use_cookies=False)
    caplog.set_level(logging.INFO, logger=ACCESS)

    # When a password link of the earlier form is opened and a query carries a secret
    client.get("/credentials/Zx81SecretLinkToken", buffered=True)
    client.post("/credentials/Zx81SecretLinkToken", data={"x": "1"}, buffered=True)
    client.get("/agents?q=Secret-Search&token=Qq42Hidden", buffered=True)
    client.get("/credentials/open", buffered=True)

    # Then the log shows the routes but neither the token nor the query
    logged = lines(caplog)
    assert [line.split()[1:3] for line in logged] == [
        ["GET", "/credentials/<token>"], ["POST", "/credentials/<token>"],
        ["GET", "/agents"], ["GET", "/credentials/open"]]
    text = "\n".join(logged)
    assert "Zx81" not in text and "Qq42" not in text and "Secret" not in text


def test_a_path_cannot_forge_a_second_log_line() -> None:
    # When a raw request path carries control characters (WSGI gives it as latin-1)
    environ = {"PATH_INFO": "/agents\r\n127.0.0.1 GET /admin 200", "SCRIPT_NAME": ""}

    # Then they are escaped in the logged path
    assert loggable_path(environ) == "/agents\\x0d\\x0a127.0.0.1 GET /admin 200"  # type: ignore[arg-type]
    # and UTF-8 paths read as people wrote them
    raw = "/agents/Nguyễn".encode().decode("latin-1")
    assert loggable_path({"PATH_INFO": raw}) == "/agents/Nguyễn"  # type: ignore[arg-type]
