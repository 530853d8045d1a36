"""gunicorn's own log lines (master and workers) as JSON lines, like the app's."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from tasks.logs import JsonFormatter


class JsonLogger(Logger):
    """gunicorn's logger with every handler it sets up writing JSON."""

    def setup(self, cfg: Any) -> None:
        """Set up as gunicorn does, then format its lines as JSON."""
        super().setup(cfg)
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(JsonFormatter())
