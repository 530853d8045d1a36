"""The app under test: its PostgreSQL or SQLite database, its settings, its queued work run."""

from __future__ import annotations

import os
import time
from typing import Any

import psycopg
from dramatiq import Worker
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from web import create_app
from web.extensions import db
from workflow.models import Base

#: The PostgreSQL server every machine running the suite has (trust auth).
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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
        # Tests read /readyz and /metrics after each step; holding a reading has its own tests.
        "PROBE_CACHE_SECONDS": 0.0,
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
