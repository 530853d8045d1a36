"""Shared fixtures: the app on SQLite and on the real PostgreSQL, demo-like data, clients."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dramatiq import Worker
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from tests.mail import smtp  # noqa: F401  (the SMTP server fixture, for every test)
from web import create_app
from web.extensions import db
from workflow.accounts import create_token, save_user
from workflow.calling.defaults import ensure_default_profile
from workflow.models import Base, Branch, Department, Employee, Organisation
from workflow.rules import Role

#: The PostgreSQL server every machine running the suite has (trust auth).
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Password of every test user; hashed once per session because hashing is slow on purpose.
PASSWORD = "s3cret-pass"
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def worker_suffix() -> str:
    """A name part unique to this test process, so concurrent runs never share a database."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


def fresh_pg_database(name: str) -> str:
    """Drop and create a PostgreSQL database; return its SQLAlchemy URL."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    host = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{host}/{name}"


def settings_for(database_url: str, **extra: Any) -> dict[str, Any]:
    """Settings for an app under test: embedded broker, fast retries."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        "SECRET_KEY": "test",
        "MAIL_SERVER": None,
        "PROVISION_RETRY_SECONDS": 0.0,
        "RELAY_GRACE_SECONDS": 0.0,
        # Tests fail to sign in more often than a person; the limits have their own tests.
        "LOGIN_FAILURES_PER_ADDRESS": "10000 per minute",
        "LOGIN_FAILURES_PER_ACCOUNT": "10000 per minute",
        **extra,
    }


def build_app(database_url: str, **extra: Any) -> Flask:
    """An app on `database_url` with the schema migrated to head."""
    app = create_app(settings_for(database_url, **extra))
    with app.app_context():
        upgrade()
    return app


def wipe(app: Flask) -> None:
    """Delete every row, keeping the schema."""
    with app.app_context():
        db.session.remove()
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))


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


@dataclass
class World:
    """A small organisation: two branches, staff, and one user per role."""

    organisation_id: int
    branch_ids: list[int]
    department_ids: list[int]
    employee_ids: list[int]
    requester_id: int
    approver_id: int
    other_approver_id: int
    admin_id: int
    emails: dict[str, str]


def make_world(employees_per_department: int = 4) -> World:
    """Create the organisation in the current app context."""
    session = db.session
    organisation = Organisation(
        name="Công ty Thử", extension_length=4, extension_prefix="5", reserved_extensions=["5000"]
    )
    session.add(organisation)
    session.flush()
    branches = [
        Branch(organisation_id=organisation.id, name=name, kind=kind)
        for name, kind in (("Hà Nội", "office"), ("Đà Nẵng", "branch"))
    ]
    departments = [
        Department(branch=branch, name=name)
        for branch in branches
        for name in ("Kinh doanh", "Kỹ thuật")
    ]
    employees = [
        Employee(department=department, full_name=f"Nhân viên {d}-{i}")
        for d, department in enumerate(departments)
        for i in range(employees_per_department)
    ]
    session.add_all([*branches, *departments, *employees])
    ensure_default_profile(session)  # as migration 0006 leaves every installation
    session.commit()
    emails = {
        "requester": "requester@test.vn",
        "approver": "approver@test.vn",
        "other_approver": "approver2@test.vn",
        "admin": "admin@test.vn",
    }
    requester = save_user(
        session, emails["requester"], Role.REQUESTER, PASSWORD_HASH, "Người Yêu Cầu"
    )
    approver = save_user(
        session, emails["approver"], Role.APPROVER, PASSWORD_HASH, "Người Duyệt", [branches[0].id]
    )
    other = save_user(
        session,
        emails["other_approver"],
        Role.APPROVER,
        PASSWORD_HASH,
        "Người Duyệt Khác",
        [branches[1].id],
    )
    admin = save_user(session, emails["admin"], Role.ADMIN, PASSWORD_HASH, "Quản Trị")
    return World(
        organisation.id,
        [b.id for b in branches],
        [d.id for d in departments],
        [e.id for e in employees],
        requester.id,
        approver.id,
        other.id,
        admin.id,
        emails,
    )


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


class ApiClient:
    """A test client signed in with a bearer token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.post(
            url, json=json if json is not None else {}, headers=headers, **kwargs
        )

    def put(self, url: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.put(url, json=json, headers=headers, **kwargs)


@pytest.fixture
def api(app: Flask, world: World) -> Callable[[str], ApiClient]:
    """`api("approver")` is a client signed in as that role of the world."""

    def client_for(role: str) -> ApiClient:
        return ApiClient(app.test_client(), create_token(db.session, world.emails[role]))

    return client_for


def drain(app: Flask, timeout: float = 20.0) -> None:
    """Run the embedded broker's queued messages (and those they cause) to the end."""
    broker = app.extensions["agentdesk"].broker
    worker = Worker(broker, worker_timeout=10, worker_threads=2)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        for queue in sorted(broker.get_declared_queues()):
            broker.join(queue, timeout=int(max(0.1, deadline - time.monotonic()) * 1000))
        worker.join()
    finally:
        worker.stop()
