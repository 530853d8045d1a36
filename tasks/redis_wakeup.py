"""A Redis broker whose idle consumers wait for a published wake-up instead of polling."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message
from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)

#: Longest wait for a subscription's confirmation before the consumer gives up (and restarts).
SUBSCRIBE_TIMEOUT_SECONDS = 10.0
#: Longest idle wait once the worker shuts down: consumers keep fetching (and heartbeating)
#: while running messages finish, and must notice their stop promptly.
STOPPING_WAIT_SECONDS = 0.1


# Messages, acks, nacks, requeues and heartbeats stay Dramatiq's own scripts (at least once);
# only the idle consumer's sleep becomes a wait on the queue's channel. Pickup is immediate,
# while an idle worker fetches once per idle wait (`timeout`), which also bounds its heartbeat.
class WakingRedisBroker(RedisBroker):
    """Dramatiq's Redis broker that publishes a wake-up on the queue's channel per enqueue."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Set from the worker's shutdown until its next boot: waits become short.
        self.stopping = threading.Event()
        self.add_middleware(_ShutdownWakeup())

    @property
    def consumer_class(self) -> type[WakingConsumer]:
        """Consumers that wait on the wake-up channel."""
        return WakingConsumer

    def wake_channel(self, queue_name: str) -> str:
        """The channel announcing new messages on `queue_name` (delay queues have their own)."""
        return f"{self.namespace}:wake:{queue_name}"

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        """Enqueue as Dramatiq does, then wake the consumers of the queue it went to."""
        enqueued: Message = super().enqueue(message, delay=delay)
        self.wake(enqueued.queue_name)
        return enqueued

    def wake(self, queue_name: str) -> None:
        """Publish a wake-up for `queue_name`; a failure only delays pickup to the idle wait."""
        try:
            self.client.publish(self.wake_channel(queue_name), b"")
        except redis.RedisError:
            # The message is stored: raising would make the sender send it again.
            logger.warning("could not publish a wake-up for queue %s", queue_name, exc_info=True)


class _ShutdownWakeup(Middleware):
    """On worker shutdown, switch consumers to short waits and wake the waiting ones."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if isinstance(broker, WakingRedisBroker):
            broker.stopping.clear()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if not isinstance(broker, WakingRedisBroker):
            return
        broker.stopping.set()
        # Other workers' consumers of these queues wake too: one extra fetch each, harmless.
        for queue_name in broker.get_declared_queues() | broker.get_declared_delay_queues():
            broker.wake(queue_name)


class WakingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer that waits for a wake-up (or a freed prefetch slot)."""

    broker: WakingRedisBroker

    def __init__(self, broker: WakingRedisBroker, queue_name: str, prefetch: int,
                 timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)
        #: Set by ack/nack: a prefetch slot is free again.
        self._slot_freed = threading.Event()
        #: Delayed messages handed out and not yet acked: message id -> eta (epoch ms). Their
        #: consumer thread moves them when due, so the wait must end by then.
        self._due: dict[str, float] = {}
        self._due_lock = threading.Lock()  # acks may come from worker threads
        self._pubsub = broker.client.pubsub()
        try:
            # Subscribed (confirmed) before the first fetch: a wake-up published after any
            # fetch is then buffered on this connection, never lost.
            self._pubsub.subscribe(broker.wake_channel(queue_name))
            self._await_subscription()
        except redis.ConnectionError as error:
            self.close()
            raise ConnectionClosed(error) from None

    def _await_subscription(self) -> None:
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            reply = self._pubsub.get_message(timeout=remaining)
            if reply is not None and reply["type"] == "subscribe":
                return
        raise redis.ConnectionError("no confirmation of the wake-up subscription")

    def ack(self, message: MessageProxy) -> None:
        """Ack as Dramatiq does; the prefetch slot is free."""
        try:
            super().ack(message)
        finally:
            self._release(message)

    def nack(self, message: MessageProxy) -> None:
        """Nack as Dramatiq does; the prefetch slot is free."""
        try:
            super().nack(message)
        finally:
            self._release(message)

    def _release(self, message: MessageProxy) -> None:
        with self._due_lock:
            self._due.pop(message.message_id, None)
        self._slot_freed.set()

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        """Requeue as Dramatiq does, and wake the consumers that may take them now."""
        messages = list(messages)
        super().requeue(messages)
        if messages:
            self.broker.wake(self.queue_name)

    def close(self) -> None:
        """Close the wake-up subscription's connection."""
        # The connection is dropped either way.
        with contextlib.suppress(redis.RedisError):
            self._pubsub.close()

    def __next__(self) -> MessageProxy | None:
        """The next message, or None after a wait (the consumer thread then runs due ones)."""
        try:
            while True:
                if self.message_cache:
                    data = self.message_cache.pop(0)
                    if data is None:  # as Dramatiq's own consumer does
                        logger.warning("a None message in the cache of queue %s",
                                       self.queue_name)
                        continue
                    message = Message.decode(data)
                    self.queued_message_ids.add(message.message_id)
                    eta = message.options.get("eta")
                    if isinstance(eta, (int, float)):
                        with self._due_lock:
                            self._due[message.message_id] = eta
                    return MessageProxy(message)

                free = self.prefetch - self.outstanding_message_count
                if free <= 0:
                    self._slot_freed.clear()
                    # Checked again after the clear: an ack in between has set it again.
                    if self.prefetch - self.outstanding_message_count <= 0:
                        self._slot_freed.wait(self._wait_seconds())
                    return None

                # Wake-ups so far are answered by this fetch; later ones stay buffered.
                self._drain_wakeups()
                self.message_cache = self.broker.do_fetch(self.queue_name, free)
                if not self.message_cache:
                    self._wait_for_wakeup(self._wait_seconds())
                    return None
        except redis.ConnectionError as error:
            raise ConnectionClosed(error) from None

    def _wait_seconds(self) -> float:
        """The idle wait, cut short by a due delayed message or the worker's shutdown."""
        wait = self.timeout / 1000
        if self.broker.stopping.is_set():
            wait = min(wait, STOPPING_WAIT_SECONDS)
        with self._due_lock:
            due = min(self._due.values(), default=None)
        if due is not None:
            wait = min(wait, due / 1000 - time.time())
        return max(wait, 0.0)

    def _drain_wakeups(self) -> None:
        while self._pubsub.get_message(timeout=0) is not None:
            pass

    def _wait_for_wakeup(self, seconds: float) -> bool:
        """Block until a wake-up arrives (True) or `seconds` pass (False)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            reply = self._pubsub.get_message(timeout=remaining)
            if reply is not None and reply["type"] == "message":
                return True
        return False

