"""Shared fixtures: the app on SQLite and on the real PostgreSQL, demo-like data, clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from tests.support.api import ApiClient
from tests.support.apps import PG_ADMIN_URL, build_app, fresh_pg_database, wipe, worker_suffix
from tests.support.mail import smtp  # noqa: F401  (the SMTP server fixture, for every test)
from tests.support.world import World, make_world
from web.extensions import db
from workflow.people.accounts import create_token


@pytest.fixture(scope="session")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    path = Path(tmp_path_factory.mktemp("sqlite")) / "agentdesk.db"
    app = build_app(f"sqlite:///{path}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def pg_app() -> Iterator[Flask]:
    app = build_app(fresh_pg_database(f"agentdesk_test_{worker_suffix()}"))
    yield app
    with app.app_context():
        db.engine.dispose()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the databases this process created (their names end with its suffix)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        names = connection.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, 'agentdesk_')"
            " AND right(datname, %s) = %s",
            (len(worker_suffix()) + 1, f"_{worker_suffix()}"),
        ).fetchall()
        for (name,) in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The app on each database in turn, empty, inside an app context."""
    flask_app: Flask = request.getfixturevalue(
        f"{'pg' if request.param != 'sqlite' else 'sqlite'}_app"
    )
    wipe(flask_app)
    with flask_app.app_context():
        yield flask_app
        db.session.remove()


@pytest.fixture
def pg_only_app(pg_app: Flask) -> Iterator[Flask]:
    """The app on PostgreSQL only, empty, inside an app context."""
    wipe(pg_app)
    with pg_app.app_context():
        yield pg_app
        db.session.remove()


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


@pytest.fixture
def api(app: Flask, world: World) -> Callable[[str], ApiClient]:
    """`api("approver")` is a client signed in as that role of the world."""

    def client_for(role: str) -> ApiClient:
        return ApiClient(app.test_client(), create_token(db.session, world.emails[role]))

    return client_for


