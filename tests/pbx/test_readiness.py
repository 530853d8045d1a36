"""/readyz against real dependencies, each started privately so the test can stop it."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from werkzeug.test import Client

from tests.support.apps import settings_for, worker_suffix
from tests.support.pbx import Kamailio, running_kamailio
from tests.support.postgres import PrivatePostgres, private_postgres
from tests.support.processes import redis_server
from web import create_app
from web.extensions import db

#: A password in the database URL: trust auth ignores it, and no answer may show it.
PASSWORD = "readiness-s3cret"


@dataclass
class Stack:
    """agentdesk on a private PostgreSQL, a private Redis and a private Kamailio."""

    postgres: PrivatePostgres
    redis: contextlib.AbstractContextManager[str]
    kamailio: contextlib.AbstractContextManager[Kamailio]
    app: Flask

    def get(self, path: str) -> tuple[int, Any]:
        """GET `path` without a sign-in; its status and JSON body."""
        response = Client(self.app).get(path)
        return response.status_code, response.json


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Every dependency up; the test may stop any of them."""
    with contextlib.ExitStack() as stop_all:
        postgres = stop_all.enter_context(private_postgres())
        (tmp_path / "redis").mkdir()
        redis = redis_server(tmp_path / "redis")
        redis_url = stop_all.enter_context(redis)
        kamailio = running_kamailio(f"agentdesk_readyz_kam_{worker_suffix()}",
                                    tmp_path / "kamailio.log")
        pbx = stop_all.enter_context(kamailio)
        url = postgres.url.replace("postgres@", f"postgres:{PASSWORD}@")
        app = create_app(settings_for(
            url, REDIS_URL=redis_url, PHONE_SYSTEM="kamailio", SIP_DOMAIN=pbx.domain,
            KAMAILIO_DATABASE_URL=pbx.database_url.replace("postgresql://",
                                                           "postgresql+psycopg://"),
            KAMAILIO_RPC_URL=pbx.rpc_url, READINESS_TIMEOUT_SECONDS=2.0))
        yield Stack(postgres, redis, kamailio, app)
        with app.app_context():
            db.engine.dispose()


def assert_only_failing(stack: Stack, failing: str, caplog: pytest.LogCaptureFixture) -> None:
    """/readyz answers 503 naming `failing` alone; /healthz stays 200; no secret shown."""
    status, body = stack.get("/readyz")
    assert status == 503
    assert body == {"database": "ok", "redis": "ok", "phone_system": "ok", failing: "unavailable"}
    assert stack.get("/healthz") == (200, {"status": "ok"})
    assert PASSWORD not in caplog.text


def test_ready_when_every_dependency_answers(stack: Stack) -> None:
    assert stack.get("/readyz") == (200, {"database": "ok", "redis": "ok", "phone_system": "ok"})
    assert stack.get("/healthz") == (200, {"status": "ok"})


def test_not_ready_naming_the_database_when_postgresql_stops(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a ready app whose pool already holds a connection
    assert stack.get("/readyz")[0] == 200
    # When its PostgreSQL stops
    stack.postgres.stop()
    # Then /readyz names the database (and the directory-free phone system stays ready)
    assert_only_failing(stack, "database", caplog)
    # And once it is back, the app is ready again
    stack.postgres.start()
    assert stack.get("/readyz")[0] == 200


def test_not_ready_naming_redis_when_it_stops(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    stack.redis.__exit__(None, None, None)
    assert_only_failing(stack, "redis", caplog)


def test_not_ready_naming_the_phone_system_when_kamailio_stops(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    stack.kamailio.__exit__(None, None, None)
    assert_only_failing(stack, "phone_system", caplog)


def test_a_hung_redis_fails_the_probe_instead_of_hanging_it(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a Redis that accepts connections but never answers (its process frozen)
    pid = redis_pid(stack)
    os.kill(pid, signal.SIGSTOP)
    try:
        # Then the probe still answers, naming Redis
        assert_only_failing(stack, "redis", caplog)
    finally:
        os.kill(pid, signal.SIGCONT)


def redis_pid(stack: Stack) -> int:
    """The private redis-server's process id (from the server itself)."""
    url = stack.app.config["REDIS_URL"]
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def test_the_embedded_default_is_ready_without_redis(tmp_path: Path) -> None:
    # Given the trial set-up: SQLite, the embedded broker, the built-in directory
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'agentdesk.db'}"))
    # Then Redis is not used and the directory is ready with the database
    response = Client(app).get("/readyz")
    assert (response.status_code, response.json) == (
        200, {"database": "ok", "redis": "not used", "phone_system": "ok"})


def test_a_burst_of_probes_shares_one_check(stack: Stack) -> None:
    # Given probes held for an hour (a flood of /readyz must not open a connection each)
    stack.app.config["PROBE_CACHE_SECONDS"] = 3600.0
    assert stack.get("/readyz")[0] == 200
    # When Redis stops within the hour
    stack.redis.__exit__(None, None, None)
    # Then every probe meanwhile gets the answer already checked
    assert [stack.get("/readyz")[0] for _ in range(20)] == [200] * 20
