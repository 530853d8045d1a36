"""Send outbox messages to the broker right after the transaction that wrote them commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import dramatiq
import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from tasks.logs import MESSAGE_OPTION
from workflow.models import OutboxMessage
from workflow.outbox import PENDING, request_id_var

logger = logging.getLogger(__name__)


class Dispatcher:
    """Sends actor messages; a broker outage is logged, never raised (the relay resends)."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def send(self, actor_name: str, args: Iterable[Any], request_id: str | None = None) -> bool:
        """Enqueue one message, carrying `request_id` to the worker's log lines; False when the
        broker could not take it."""
        options: dict[str, Any] = {MESSAGE_OPTION: request_id} if request_id else {}
        try:
            self.broker.get_actor(actor_name).send_with_options(args=tuple(args), **options)
        except (redis.RedisError, dramatiq.errors.DramatiqError) as error:
            logger.warning("could not enqueue %s%s: %s", actor_name, tuple(args), error)
            return False
        return True


_installed: set[type] = set()


def install_outbox_hooks(
    session_class: type, dispatcher_for: Callable[[], Dispatcher | None]
) -> None:
    """Collect outbox rows as they are flushed and send them once their commit succeeds.

    Installed once per session class; `dispatcher_for` finds the dispatcher of the
    running app, so several apps (as in tests) can share one session class.
    """
    if session_class in _installed:
        return
    _installed.add(session_class)

    @event.listens_for(session_class, "before_flush")
    def stamp(session: Session, flush_context: Any, instances: Any) -> None:
        # The row keeps the id of the request that promised it, for whoever traces it later.
        if (request_id := request_id_var.get()) is not None:
            for item in session.new:
                if isinstance(item, OutboxMessage) and item.request_id is None:
                    item.request_id = request_id

    @event.listens_for(session_class, "after_flush")
    def collect(session: Session, flush_context: Any) -> None:
        fresh = [item for item in session.new if isinstance(item, OutboxMessage)]
        if fresh:
            pending = session.info.setdefault(PENDING, [])
            pending.extend((row.actor_name, list(row.args), row.request_id) for row in fresh)

    @event.listens_for(session_class, "after_commit")
    def send(session: Session) -> None:
        pending = session.info.pop(PENDING, [])
        if pending and (dispatcher := dispatcher_for()) is not None:
            for actor_name, args, request_id in pending:
                dispatcher.send(actor_name, args, request_id)

    @event.listens_for(session_class, "after_soft_rollback")
    def forget(session: Session, previous_transaction: Any) -> None:
        session.info.pop(PENDING, None)
