"""Dramatiq workers on the waking Redis broker: a new message wakes an idle consumer at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq import Worker

from tasks.redis_wakeup import WakingRedisBroker
from tests.support.processes import free_port, port_open, redis_server, running, wait_for

pytestmark = pytest.mark.redis

QUEUE = "wakeup"
#: The idle wait of every worker here. Each message below is awaited for at most half of it,
#: so one processed in time was picked up because a wake-up ended the wait, not the wait.
IDLE_WAIT_MS = 60_000
WITHIN = IDLE_WAIT_MS / 1000 / 2


class Seen:
    """What an actor was called with, in order, shared with the test thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Any] = []

    def add(self, value: Any) -> None:
        """Record one call."""
        with self.lock:
            self.calls.append(value)

    def count(self) -> int:
        """How many calls so far."""
        with self.lock:
            return len(self.calls)


def waking_broker(redis_url: str) -> WakingRedisBroker:
    """A broker as `build_broker` makes it, on `redis_url`."""
    return WakingRedisBroker(url=redis_url, namespace="agentdesk")


def recording_actor(broker: dramatiq.Broker, seen: Seen, fail_first: int = 0,
                    busy: float = 0.0, **options: Any) -> dramatiq.Actor[Any, Any]:
    """An actor that records its argument, busy for `busy` seconds; its first `fail_first`
    calls raise (and retry)."""

    def record(value: Any) -> None:
        time.sleep(busy)
        seen.add(value)
        if seen.count() <= fail_first:
            raise RuntimeError("failing on purpose, to be retried")

    return dramatiq.Actor(record, broker=broker, actor_name="record", queue_name=QUEUE,
                          priority=0, options=options)


@contextmanager
def started(broker: dramatiq.Broker, threads: int = 2) -> Iterator[Worker]:
    """A Dramatiq worker on `broker` with the long idle wait, stopped on the way out."""
    worker = Worker(broker, worker_timeout=IDLE_WAIT_MS, worker_threads=threads)
    worker.start()
    try:
        yield worker
    finally:
        # Worker threads wait on their in-memory queue for the whole idle wait: they are not
        # waited for. The consumers stop at once, and their subscriptions close.
        worker.stop(timeout=1000)


def subscribers(redis_url: str, queue_name: str) -> int:
    """How many connections listen for wake-ups of `queue_name`."""
    client = redis.Redis.from_url(redis_url)
    try:
        [(_, count)] = client.pubsub_numsub(f"agentdesk:wake:{queue_name}")
        return int(count)
    finally:
        client.close()


def idle(redis_url: str, count: int = 1) -> Callable[[], bool]:
    """A check: `count` consumers of the queue and of its delay queue listen for wake-ups."""
    return lambda: (subscribers(redis_url, QUEUE) == count
                    and subscribers(redis_url, f"{QUEUE}.DQ") == count)


def test_a_message_sent_to_an_idle_worker_is_processed_long_before_its_idle_wait(
    tmp_path: Path,
) -> None:
    with redis_server(tmp_path) as redis_url:
        broker = waking_broker(redis_url)
        seen = Seen()
        actor = recording_actor(broker, seen)
        with started(broker):
            wait_for(idle(redis_url), "the worker's consumers to subscribe")
            # Given a worker that handled a message and went back to waiting
            actor.send("first")
            wait_for(lambda: seen.count() == 1, "the first message", timeout=WITHIN)
            time.sleep(0.5)
            # When another message comes
            actor.send("second")
            # Then the wake-up ends the consumer's wait: without it, it would sleep 60 s
            wait_for(lambda: seen.count() == 2, "the second message", timeout=WITHIN)
        assert seen.calls == ["first", "second"]


def test_a_delayed_message_and_a_retry_run_when_due_not_after_the_idle_wait(
    tmp_path: Path,
) -> None:
    with redis_server(tmp_path) as redis_url:
        broker = waking_broker(redis_url)
        seen = Seen()
        actor = recording_actor(broker, seen, fail_first=1, max_retries=3,
                                min_backoff=200, max_backoff=200)
        with started(broker):
            wait_for(idle(redis_url), "the worker's consumers to subscribe")
            # A retry: the first call fails, Dramatiq sends it again with a delay
            actor.send("retried")
            wait_for(lambda: seen.count() == 2, "the retry", timeout=WITHIN)
            # A message sent with a delay goes through the delay queue too
            actor.send_with_options(args=("delayed",), delay=300)
            wait_for(lambda: seen.count() == 3, "the delayed message", timeout=WITHIN)
        assert seen.calls == ["retried", "retried", "delayed"]


def test_many_messages_on_two_workers_with_a_small_prefetch_each_run_exactly_once(
    tmp_path: Path,
) -> None:
    with redis_server(tmp_path) as redis_url:
        seen = Seen()
        # Two workers (as two processes would be), each with its own broker and 2 threads:
        # prefetch 4 and busy actors, so each consumer waits for a free slot again and again
        # (without the ack waking it, for the whole idle wait).
        brokers = [waking_broker(redis_url) for _ in range(2)]
        actors = [recording_actor(broker, seen, busy=0.01) for broker in brokers]
        with started(brokers[0]), started(brokers[1]):
            wait_for(idle(redis_url, count=2), "both workers' consumers to subscribe")
            for number in range(300):
                actors[number % 2].send(number)
            wait_for(lambda: seen.count() >= 300, "all 300 messages", timeout=WITHIN)
            time.sleep(0.5)  # a message run twice would show up now
        counts = Counter(seen.calls)
        assert sorted(counts) == list(range(300))
        assert set(counts.values()) == {1}


def test_a_worker_waiting_through_a_redis_restart_takes_messages_sent_after_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]
    seen = Seen()
    broker = waking_broker(redis_url)
    actor = recording_actor(broker, seen)
    worker = Worker(broker, worker_timeout=IDLE_WAIT_MS, worker_threads=2)
    stopped = False
    try:
        with running(command, {}, tmp_path / "redis-1.log"):
            wait_for(lambda: port_open(port), "redis")
            worker.start()
            wait_for(idle(redis_url), "the worker's consumers to subscribe")
        # Given Redis gone while the consumers waited for a wake-up; when it comes back
        with running(command, {}, tmp_path / "redis-2.log"):
            wait_for(lambda: port_open(port), "redis again")
            # Then the consumers subscribe again
            wait_for(idle(redis_url), "the consumers to subscribe again")

            def sent() -> bool:
                try:
                    actor.send("after the restart")
                except (redis.ConnectionError, dramatiq.errors.ConnectionError):
                    return False
                return True

            # And a message sent now is woken for and processed
            wait_for(sent, "the message to be sent")
            wait_for(lambda: seen.count() == 1, "the message sent after the restart",
                     timeout=WITHIN)
            worker.stop(timeout=1000)
            stopped = True
            assert subscribers(redis_url, QUEUE) == 0
    finally:
        if not stopped:
            worker.stop(timeout=1000)
    assert seen.calls == ["after the restart"]


def test_stopping_the_worker_closes_its_wakeup_subscriptions(tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis_url:
        broker = waking_broker(redis_url)
        recording_actor(broker, Seen())
        with started(broker):
            wait_for(idle(redis_url), "the worker's consumers to subscribe")
        assert subscribers(redis_url, QUEUE) == 0
        assert subscribers(redis_url, f"{QUEUE}.DQ") == 0
        client = redis.Redis.from_url(redis_url)
        try:
            assert not [entry for entry in client.client_list() if int(entry["sub"]) > 0]
        finally:
            client.close()
