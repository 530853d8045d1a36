"""`agentdesk serve` writes JSON lines, one per request, with the request's id."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.processes import free_port, port_open, running, wait_for


def test_serve_logs_each_request_as_a_json_line_with_its_id(tmp_path: Path) -> None:
    # Given `agentdesk serve` on SQLite
    port = free_port()
    log = tmp_path / "serve.log"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "REDIS_URL": ""}
    with running(["agentdesk", "serve", "--port", str(port)], env, log):
        wait_for(lambda: port_open(port), "agentdesk serve to listen", timeout=60)

        # When a client names its request, and another asks for a one-time link
        named = urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                       headers={"X-Request-ID": "lb-42"})
        with urllib.request.urlopen(named, timeout=10) as response:
            assert response.headers["X-Request-ID"] == "lb-42"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/credentials/Zx81Tok?q=S3", timeout=10)
        except urllib.error.HTTPError as error:
            made = error.headers["X-Request-ID"]

        def access() -> list[dict] | None:
            """The access lines so far (every line that looks like JSON must parse)."""
            lines = [json.loads(line) for line in log.read_text().splitlines()
                     if line.startswith("{")]
            found = [line for line in lines if line["logger"] == "agentdesk.access"]
            return found if len(found) == 2 else None

        first, second = wait_for(access, "two access lines", timeout=20)

    # Then each request is one JSON line with its method, path, status, duration and id
    assert (first["method"], first["path"], first["status"], first["request_id"]) == (
        "GET", "/healthz", "200", "lb-42")
    assert first["duration_ms"] >= 0 and {"time", "level", "message"} <= set(first)
    assert (second["path"], second["request_id"]) == ("/credentials/<token>", made)
    assert "Zx81Tok" not in log.read_text() and "S3" not in second["message"]
