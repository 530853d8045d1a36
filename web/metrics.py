"""`GET /metrics` in Prometheus text format, and the request counters and latency histograms.

Requests are labelled by their URL rule (`/api/v1/tickets/<int:ticket_id>`), never the raw
path, so no label carries an id, a name or an address. The ticket and outbox gauges are read
from the database at most once per PROBE_CACHE_SECONDS. With PROMETHEUS_MULTIPROC_DIR set,
every process (gunicorn's workers, the Dramatiq workers, the relay) writes its counters there
and this endpoint adds them up; without it, the endpoint shows this process only.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from web.extensions import db
from web.held import Held, held
from workflow.tickets.health import Health, read_health

logger = logging.getLogger(__name__)

#: Seconds buckets of a page or API call.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "agentdesk_http_requests", "HTTP requests, by method, URL rule and status.",
    ["method", "route", "status"])
REQUEST_DURATION = Histogram(
    "agentdesk_http_request_duration_seconds", "Time to answer one HTTP request.",
    ["method", "route"], buckets=REQUEST_BUCKETS)

#: Where the last reading of the database's figures is held on the app.
_HEALTH_KEY = "agentdesk.metrics_health"
#: The route label of a request that matched no URL rule (a 404 or a refused method).
UNMATCHED = "unmatched"


class HealthCollector(Collector):
    """Gauges read from the database at scrape time: tickets, approvals waiting, outbox."""

    def collect(self) -> Iterable[Metric]:
        """Read the figures in one go; on a database error, only `agentdesk_database_up 0`."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        reading: Held[Health | None] = held(app, _HEALTH_KEY, app.config["PROBE_CACHE_SECONDS"])
        health = reading.get(_read_health)
        yield GaugeMetricFamily("agentdesk_database_up",
                                "1 when the gauges below could be read from the database.",
                                value=0 if health is None else 1)
        if health is None:
            return
        tickets = GaugeMetricFamily("agentdesk_tickets", "Tickets by state.", labels=["state"])
        for state, count in health.tickets_by_state.items():
            tickets.add_metric([state], count)
        yield tickets
        yield GaugeMetricFamily(
            "agentdesk_oldest_pending_approval_seconds",
            "Age of the oldest ticket waiting for a decision (0 when none).",
            value=health.oldest_pending_approval_seconds)
        yield GaugeMetricFamily(
            "agentdesk_outbox_backlog", "Outbox messages not processed yet.",
            value=health.outbox_backlog)
        yield GaugeMetricFamily(
            "agentdesk_outbox_oldest_seconds",
            "Age of the oldest unprocessed outbox message (0 when none).",
            value=health.outbox_oldest_seconds)


def _read_health() -> Health | None:
    """The database's figures now; None when it cannot say."""
    try:
        health = read_health(db.session())
        db.session.rollback()  # a read only: release the connection's snapshot
    except SQLAlchemyError as error:
        logger.warning("metrics could not read the database: %s", error)
        db.session.rollback()
        return None
    return health


def init_metrics(app: Flask) -> None:
    """Count and time every request and serve `/metrics`."""
    app.before_request(_start_timer)
    app.after_request(_record)
    app.add_url_rule("/metrics", "metrics", metrics)


def _start_timer() -> None:
    """Remember when the request began."""
    g.metrics_started = time.perf_counter()


#: The counter and histogram children of each (method, route, status) met so far: looking a
#: child up by its labels (`.labels()`) costs more than counting with it.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _record(response: Response) -> Response:
    """Count the request by its URL rule and status, and observe its duration."""
    started = g.pop("metrics_started", None)
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    key = (request.method, route, response.status_code)
    children = _CHILDREN.get(key)
    if children is None:
        children = _CHILDREN[key] = (REQUESTS.labels(key[0], route, str(key[2])),
                                     REQUEST_DURATION.labels(key[0], route))
    children[0].inc()
    if started is not None:
        children[1].observe(time.perf_counter() - started)
    return response


def metrics() -> Response:
    """Every metric in Prometheus text format; a bearer token when METRICS_TOKEN is set."""
    if not _token_accepted():
        # Plain text, not the people's error page: the caller is a scraper.
        return Response("metrics token required\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": "Bearer"})
    output = generate_latest(_process_registry()) + generate_latest(_health_registry())
    return Response(output, mimetype=CONTENT_TYPE_LATEST)


def _token_accepted() -> bool:
    """Whether the request bears METRICS_TOKEN (always, when none is configured)."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), str(expected).encode())


def _process_registry() -> CollectorRegistry:
    """This process's registry, or all processes' files when running multiprocess."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def _health_registry() -> CollectorRegistry:
    """A registry holding only the gauges read from the database (built per scrape)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector())
    return registry
