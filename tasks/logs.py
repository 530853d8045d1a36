"""JSON log lines for every process (serve, gunicorn, worker, relay), with the request id.

One line is one JSON object: time, level, logger, message, and request_id / ticket_id when
the work at hand knows them. The ids live in context variables, so a web request, a worker
thread handling one message, or a relay duty each put their own ids on what they log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from workflow.outbox import request_id_var

#: The ticket being worked on, if any.
ticket_id_var: ContextVar[int | None] = ContextVar("agentdesk_ticket_id", default=None)

#: A request id a client may choose: short, and nothing that could forge or break a log line.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: The Dramatiq message option that carries the request id to the worker.
MESSAGE_OPTION = "request_id"
#: Actors whose first argument is a ticket id.
TICKET_ACTORS = frozenset({"provision_ticket"})

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def sane_request_id(candidate: str | None) -> str:
    """`candidate` when it is a sane short token, else a fresh id."""
    if candidate and _SANE_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON; newlines in the message are escaped, so one record is one line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        ticket_id = getattr(record, "ticket_id", None) or ticket_id_var.get()
        if ticket_id is not None:
            entry["ticket_id"] = ticket_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[Any]):
    """Write to whatever `sys.stderr` is when a record comes.

    Dramatiq's worker processes swap `sys.stderr` for a pipe to their parent, which writes
    each child's lines whole; a handler inherited across the fork must follow that swap.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """Ignored: the stream is always the current standard error."""


def configure_logging(level: int = logging.INFO) -> None:
    """Make every handler of the root logger write JSON lines (adding one on stderr if none).

    Handlers already there (Dramatiq's pipe to its parent process, gunicorn's) keep their
    stream and only change format.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(StderrHandler())
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    root.setLevel(level)
    # Alembic names each of its plugins as it loads them, in every process that imports it
    # (the workers and the relay too): start-up noise, not news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@contextmanager
def bound(request_id: str | None = None, ticket_id: int | None = None) -> Iterator[None]:
    """Put these ids on every line logged inside the block (in this thread or task)."""
    request_token = request_id_var.set(request_id) if request_id else None
    ticket_token = ticket_id_var.set(ticket_id) if ticket_id is not None else None
    try:
        yield
    finally:
        if ticket_token is not None:
            ticket_id_var.reset(ticket_token)
        if request_token is not None:
            request_id_var.reset(request_token)


class LogContextMiddleware(Middleware):
    """Bind the message's request id (and ticket id) while its actor runs."""

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        """Set the ids for the worker thread that runs this message."""
        request_id_var.set(message.options.get(MESSAGE_OPTION))
        args = message.args
        ticket = args[0] if message.actor_name in TICKET_ACTORS and args else None
        ticket_id_var.set(ticket if isinstance(ticket, int) else None)

    def after_process_message(
        self, broker: dramatiq.Broker, message: MessageProxy, *,
        result: Any = None, exception: BaseException | None = None,
    ) -> None:
        """Clear them: the thread goes on to other messages."""
        request_id_var.set(None)
        ticket_id_var.set(None)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        """Clear them for a skipped message too."""
        self.after_process_message(broker, message)
