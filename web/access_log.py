"""One access-log line per request, with no secret in it (WSGI middleware for `serve`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Name of the access log's logger (`serve` sets it to INFO).
ACCESS_LOGGER = "agentdesk.access"
logger = logging.getLogger(ACCESS_LOGGER)

#: Paths under /credentials/ that name no token; any other segment there is a one-time token.
_CREDENTIAL_PAGES = frozenset({"open", "reveal"})


def loggable_path(environ: WSGIEnvironment) -> str:
    """The request path without its query string, with one-time tokens and control characters
    masked (a token in an access log would let its readers open the password)."""
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    # WSGI hands the path over as latin-1; the browser sent UTF-8.
    path = raw.encode("latin-1", "replace").decode("utf-8", "replace")
    parts = path.split("/")
    if len(parts) > 2 and (parts[1] == "provision" or (
            parts[1] == "credentials" and parts[2] not in _CREDENTIAL_PAGES)):
        parts[2] = "<token>"
        path = "/".join(parts)
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in path)


class AccessLog:
    """Log method, path, status, duration and client address once each response is sent."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def recording(status_line: str, headers: list[tuple[str, str]],
                      exc_info: Any = None) -> Callable[[bytes], object]:
            status[:] = [status_line.split(" ", 1)[0]]
            return start_response(status_line, headers, exc_info)

        try:
            body = self.app(environ, recording)
        except BaseException:
            self._log(environ, "500", started)
            raise
        return _Logged(body, lambda: self._log(environ, status[0] if status else "-", started))

    @staticmethod
    def _log(environ: WSGIEnvironment, status: str, started: float) -> None:
        """Write the line; the client address is read after ProxyFix may have corrected it."""
        method = "".join(char for char in environ.get("REQUEST_METHOD", "-") if char.isprintable())
        client, path = environ.get("REMOTE_ADDR", "-"), loggable_path(environ)
        duration = round((time.perf_counter() - started) * 1000, 1)
        # The fields again as their own keys, for JSON logs; the id was set inside the app.
        fields = {"client": client, "method": method[:16], "path": path, "status": status,
                  "duration_ms": duration, "request_id": environ.get("agentdesk.request_id")}
        logger.info("%s %s %s %s %.1f ms", client, method[:16], path, status, duration,
                    extra=fields)


class _Logged:
    """A response body that logs its request once the server has sent it (or given up)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self.body = body
        self.done = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.done()
