"""Build the Dramatiq broker once, with the middleware agentdesk needs."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware
from flask import Flask

from tasks.logs import LogContextMiddleware
from tasks.redis_wakeup import WakingRedisBroker


class AppContextMiddleware(Middleware):
    """Run every message inside a Flask app context, so actors get config and a session."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._contexts: dict[str, Any] = {}

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        context = self.app.app_context()
        context.push()
        self._contexts[message.message_id] = context

    def after_process_message(
        self, broker: dramatiq.Broker, message: MessageProxy, *,
        result: Any = None, exception: BaseException | None = None,
    ) -> None:
        context = self._contexts.pop(message.message_id, None)
        if context is not None:
            context.pop(exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self.after_process_message(broker, message)


def build_broker(app: Flask, redis_url: str | None) -> dramatiq.Broker:
    """A Redis broker when `redis_url` is set, else an in-process one; made the global broker."""
    broker: dramatiq.Broker
    if redis_url:
        broker = WakingRedisBroker(url=redis_url, namespace="agentdesk")
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    broker.add_middleware(AppContextMiddleware(app))
    broker.add_middleware(LogContextMiddleware())
    dramatiq.set_broker(broker)
    return broker
