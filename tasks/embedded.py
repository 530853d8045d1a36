"""The embedded default: Dramatiq worker and outbox relay in the web process."""

from __future__ import annotations

import logging
import threading

from dramatiq import Worker
from flask import Flask

from tasks.relay import start_relay_thread
from tasks.runtime import runtime

logger = logging.getLogger(__name__)


class EmbeddedWorkers:
    """A Dramatiq worker and the relay running in threads of this process."""

    def __init__(self, app: Flask) -> None:
        settings = app.config
        self.worker = Worker(
            runtime(app).broker,
            worker_timeout=settings["WORKER_POLL_MS"],
            worker_threads=settings["WORKER_THREADS"],
        )
        self.app = app
        self._relay: tuple[threading.Thread, threading.Event] | None = None

    def start(self) -> None:
        """Start consuming and relaying."""
        self.worker.start()
        self._relay = start_relay_thread(self.app)
        logger.info("embedded worker and relay started")

    def stop(self) -> None:
        """Stop both, letting running messages finish."""
        if self._relay is not None:
            self._relay[1].set()
            self._relay[0].join(timeout=5)
        self.worker.stop()
