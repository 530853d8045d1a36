"""Liveness (`/healthz`) and readiness (`/readyz`) for orchestrators and load balancers.

Liveness only says the process answers; readiness checks each dependency with a short
timeout of its own, so a hung database, Redis or phone system fails the probe instead of
hanging it. Neither needs a sign-in, and neither body names a URL or a password.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import redis
from flask import Flask, Response, current_app, jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from web.composition import phone_system
from web.extensions import db
from web.held import Held, held

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
NOT_USED = "not used"
#: Where the probe's own database engine is kept on the app.
_ENGINE_KEY = "agentdesk.readiness_engine"
#: Where the last readiness answer is held on the app.
_STATES_KEY = "agentdesk.readiness"


@runtime_checkable
class Reachable(Protocol):
    """A phone system that can say, within a timeout, whether it answers."""

    def ready(self, timeout: float) -> None:
        """Nothing when it answers in time; an exception otherwise."""
        ...


def init_health(app: Flask) -> None:
    """Add /healthz and /readyz to `app`."""
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)


def healthz() -> tuple[Response, int]:
    """Liveness: the process answers (its dependencies are /readyz's concern)."""
    return jsonify({"status": OK}), 200


def readyz() -> tuple[Response, int]:
    """Readiness: 200 when every dependency answers in time, else 503 naming what failed.

    A probe hit by many callers (or by an attacker) checks at most once per
    PROBE_CACHE_SECONDS; the others get that answer."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    states: Held[dict[str, str]] = held(app, _STATES_KEY, app.config["PROBE_CACHE_SECONDS"])
    found = states.get(_check_all)
    ready = all(state in (OK, NOT_USED) for state in found.values())
    return jsonify(found), 200 if ready else 503


def _check_all() -> dict[str, str]:
    """The state of each dependency now."""
    timeout = float(current_app.config["READINESS_TIMEOUT_SECONDS"])
    states = {"database": _state("database", lambda: _check_database(timeout))}
    url = current_app.config["REDIS_URL"]
    states["redis"] = _state("redis", lambda: _check_redis(url, timeout)) if url else NOT_USED
    system = phone_system(current_app, db.session())
    if isinstance(system, Reachable):
        states["phone_system"] = _state("phone_system", lambda: system.ready(timeout))
    else:  # kept in agentdesk's own database (the built-in directory): ready when it is
        states["phone_system"] = states["database"]
    return states


def _state(name: str, check: Callable[[], object]) -> str:
    """OK when `check` returns, UNAVAILABLE (logged without its details) when it raises."""
    try:
        check()
    except Exception as error:  # any failure means not ready
        # The class only: driver messages may carry host names and user names.
        logger.warning("readiness: %s unavailable (%s)", name, error.__class__.__name__)
        return UNAVAILABLE
    return OK


def _check_database(timeout: float) -> None:
    """Run SELECT 1 on a fresh connection that may neither connect nor run for longer."""
    with _readiness_engine(current_app, timeout).connect() as connection:
        connection.execute(text("SELECT 1"))


def _readiness_engine(app: Flask, timeout: float) -> Engine:
    """The probe's own engine: no pool, so a hung pooled connection cannot hang the probe."""
    engine: Engine | None = app.extensions.get(_ENGINE_KEY)
    if engine is None:
        url = db.engine.url
        if url.get_backend_name() == "postgresql":
            # libpq counts whole seconds (and at least 2); the statement limit is in ms.
            args = {"connect_timeout": max(2, math.ceil(timeout)),
                    "options": f"-c statement_timeout={int(timeout * 1000)}"}
        else:
            args = {"timeout": timeout}
        engine = create_engine(url, poolclass=NullPool, connect_args=args)
        app.extensions[_ENGINE_KEY] = engine
    return engine


def _check_redis(url: str, timeout: float) -> None:
    """PING Redis on a connection of its own with connect and read timeouts."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()
