"""Metrics of the background work: worker messages, provisioning, calling syncs, relay, email.

Counters and histograms live in prometheus-client's default registry; with
PROMETHEUS_MULTIPROC_DIR set (the same directory for the web, the workers and the relay of
one host) each process writes them to files there and the web's `/metrics` adds them up.
Labels hold only names of actors, duties, phone systems and outcomes: never personal data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from prometheus_client import Counter, Histogram

from workflow import outbox
from workflow.calling import sync
from workflow.ports import CredentialLetter, EmailRefused, Mailer, NotificationLetter

#: Seconds buckets for work that talks to the phone system or the database.
WORK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

WORKER_MESSAGES = Counter(
    "agentdesk_worker_messages", "Worker messages processed, by actor and result (ok, error).",
    ["actor", "result"])
WORKER_DURATION = Histogram(
    "agentdesk_worker_message_duration_seconds", "Time to process one worker message.",
    ["actor"], buckets=WORK_BUCKETS)
PROVISIONING_ATTEMPTS = Counter(
    "agentdesk_provisioning_attempts",
    "Provisioning messages run, by phone system and outcome (provisioned, retry_later, "
    "failed, skipped, error).", ["phone_system", "outcome"])
PROVISIONING_FAILURES = Counter(
    "agentdesk_provisioning_failures",
    "Provisioning attempts that did not succeed (retry_later, failed or an error).",
    ["phone_system"])
PROVISIONING_DURATION = Histogram(
    "agentdesk_provisioning_duration_seconds", "Time of one provisioning attempt.",
    ["phone_system"], buckets=WORK_BUCKETS)
CALLING_SYNCS = Counter(
    "agentdesk_calling_syncs",
    "Calling-rule syncs run, by phone system and outcome (applied, nothing, error).",
    ["phone_system", "outcome"])
RELAY_DUTIES = Counter(
    "agentdesk_relay_duties", "Relay duty runs, by duty and result (ok, failed).",
    ["duty", "result"])
RELAY_DUTY_DURATION = Histogram(
    "agentdesk_relay_duty_duration_seconds", "Time of one relay duty run.", ["duty"],
    buckets=WORK_BUCKETS)
EMAILS = Counter(
    "agentdesk_emails",
    "Emails by kind (notification, credential_link) and result (sent, refused, failed).",
    ["kind", "result"])

#: Every metric this module defines, so that a dashboard can be checked against them.
ALL = (WORKER_MESSAGES, WORKER_DURATION, PROVISIONING_ATTEMPTS, PROVISIONING_FAILURES,
       PROVISIONING_DURATION, CALLING_SYNCS, RELAY_DUTIES, RELAY_DUTY_DURATION, EMAILS)

#: Provisioning outcomes that count as a failure.
_FAILED_OUTCOMES = {"retry_later", "failed", "error"}

#: What the actor running in this thread reported of its message (see `note_outcome`).
_outcome: ContextVar[str | None] = ContextVar("agentdesk_outcome", default=None)


def note_outcome(outcome: str) -> None:
    """Report what this message came to (provisioned, skipped, applied…) to `WorkerMetrics`.

    Actors report it here rather than return it: Dramatiq warns on every message whose actor
    returns a value without a results backend.
    """
    _outcome.set(outcome)


class _Children:
    """The labelled children of the metrics, found once each: `labels()` locks and checks."""

    def __init__(self) -> None:
        self._found: dict[tuple[Any, ...], Any] = {}

    def __call__(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, from the second call on without asking the metric."""
        key = (metric, *labels)
        child = self._found.get(key)
        if child is None:
            child = self._found[key] = metric.labels(*labels)
        return child


class WorkerMetrics(Middleware):
    """Time and count every message; provisioning and syncs also by phone system and outcome."""

    def __init__(self, phone_system: str) -> None:
        self.phone_system = phone_system
        self._started: dict[str, float] = {}
        self._child = _Children()

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        _outcome.set(None)
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self, broker: dramatiq.Broker, message: MessageProxy, *,
        result: Any = None, exception: BaseException | None = None,
    ) -> None:
        started = self._started.pop(message.message_id, None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        actor = message.actor_name
        child = self._child
        child(WORKER_MESSAGES, actor, "error" if exception else "ok").inc()
        child(WORKER_DURATION, actor).observe(seconds)
        noted = _outcome.get()
        if actor == outbox.PROVISION_ACTOR:
            outcome = "error" if exception else (noted or "skipped")
            child(PROVISIONING_ATTEMPTS, self.phone_system, outcome).inc()
            child(PROVISIONING_DURATION, self.phone_system).observe(seconds)
            if outcome in _FAILED_OUTCOMES:
                child(PROVISIONING_FAILURES, self.phone_system).inc()
        elif actor == sync.SYNC_ACTOR:
            outcome = "error" if exception else (noted or "nothing")
            child(CALLING_SYNCS, self.phone_system, outcome).inc()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started.pop(message.message_id, None)


@contextmanager
def relay_duty(name: str) -> Iterator[None]:
    """Count and time one relay duty run; a failure is counted and raised on."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        RELAY_DUTIES.labels(name, "failed").inc()
        raise
    else:
        RELAY_DUTIES.labels(name, "ok").inc()
    finally:
        RELAY_DUTY_DURATION.labels(name).observe(time.perf_counter() - started)


class CountingMailer:
    """A Mailer that counts what its inner mailer sent, had refused or failed to send."""

    def __init__(self, inner: Mailer) -> None:
        self.inner = inner

    @property
    def base_url(self) -> str:
        """The inner mailer's public address."""
        return self.inner.base_url

    def send_notification(self, letter: NotificationLetter) -> None:
        """Send through the inner mailer, counted as a notification."""
        with _counted("notification"):
            self.inner.send_notification(letter)

    def send_credential_link(self, letter: CredentialLetter) -> None:
        """Send through the inner mailer, counted as a credential link."""
        with _counted("credential_link"):
            self.inner.send_credential_link(letter)


@contextmanager
def _counted(kind: str) -> Iterator[None]:
    """Count one email of `kind` by how it ended."""
    try:
        yield
    except EmailRefused:
        EMAILS.labels(kind, "refused").inc()
        raise
    except Exception:
        EMAILS.labels(kind, "failed").inc()
        raise
    EMAILS.labels(kind, "sent").inc()
