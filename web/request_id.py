"""The request id: taken from a sane `X-Request-ID`, else made, returned, and put on the logs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from tasks.logs import sane_request_id
from workflow.outbox import request_id_var

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Where the id waits in the WSGI environ (the access log reads it there).
ENVIRON_KEY = "agentdesk.request_id"
#: The header that carries it both ways.
HEADER = "X-Request-ID"


def request_id_of(environ: WSGIEnvironment) -> str | None:
    """The id given to this request, once the middleware has seen it."""
    found: str | None = environ.get(ENVIRON_KEY)
    return found


class RequestId:
    """WSGI middleware: bind the id while the app handles the request and send it back."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request_id = sane_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_KEY] = request_id

        def with_header(status: str, headers: list[tuple[str, str]],
                        exc_info: Any = None) -> Callable[[bytes], object]:
            headers = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        token = request_id_var.set(request_id)
        try:
            # Flask does the request's work (and its commits) inside this call.
            return self.app(environ, with_header)
        finally:
            request_id_var.reset(token)
