"""One request id follows a ticket from the web log through the outbox row to the worker log."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from werkzeug.test import Client

from tasks.logs import JsonFormatter
from tests.support.api import ApiClient, new_ticket
from tests.support.apps import build_app, fresh_pg_database, worker_suffix
from tests.support.processes import redis_server, running, wait_for
from tests.support.world import make_world
from web.access_log import ACCESS_LOGGER, AccessLog
from web.extensions import db
from workflow.models import OutboxMessage, Ticket
from workflow.people.accounts import create_token


@contextmanager
def json_log() -> Iterator[io.StringIO]:
    """Capture what the web logs, as `serve` writes it: JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger(ACCESS_LOGGER)
    level = access.level
    access.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        access.setLevel(level)


def parsed(text: str) -> list[dict]:
    """Every line as a JSON object (each must be one)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_approvals_request_id_is_in_the_web_log_the_outbox_row_and_the_worker_log(
    tmp_path: Path,
) -> None:
    url = fresh_pg_database(f"agentdesk_trail_{worker_suffix()}")
    build_app(url)
    with redis_server(tmp_path) as redis_url:
        secret = "test-only-secret-key-never-in-production"
        web_app = build_app(url, REDIS_URL=redis_url, SECRET_KEY=secret)
        env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": secret,
               "RELAY_GRACE_SECONDS": "1"}
        with web_app.app_context():
            # Given a submitted ticket and a worker process
            world = make_world(employees_per_department=1)
            requester = ApiClient(web_app.test_client(),
                                  create_token(db.session, world.emails["requester"]))
            ticket_id = new_ticket(requester, world)["id"]
            token = create_token(db.session, world.emails["approver"])
            db.session.commit()
            worker_log = tmp_path / "worker.log"
            with running(["agentdesk", "worker", "-p", "1", "-t", "2"], env, worker_log), \
                    json_log() as web_log:
                # When the approver approves it, naming the request
                response = Client(AccessLog(web_app)).post(
                    f"/api/v1/tickets/{ticket_id}/approve", json={}, buffered=True,
                    headers={"Authorization": f"Bearer {token}", "X-Request-ID": "appr-7Q2"})
                assert response.status_code == 200
                assert response.headers["X-Request-ID"] == "appr-7Q2"

                def provisioned() -> bool:
                    db.session.expire_all()
                    return db.session.get_one(Ticket, ticket_id).state == "provisioned"

                wait_for(provisioned, "the ticket to be provisioned", timeout=60)

                def worker_lines() -> list[dict] | None:
                    lines = [line for line in parsed_worker(worker_log)
                             if line.get("request_id") == "appr-7Q2"]
                    return lines or None

                found = wait_for(worker_lines, "the worker's line about the ticket", timeout=20)

            # Then the web log, the outbox row and the worker's log all carry the id
            access = [line for line in parsed(web_log.getvalue())
                      if line["logger"] == ACCESS_LOGGER]
            assert [line["request_id"] for line in access] == ["appr-7Q2"]
            assert access[0]["status"] == "200" and access[0]["method"] == "POST"
            rows = db.session.scalars(select(OutboxMessage)).all()
            assert [row.request_id for row in rows] == ["appr-7Q2"]
            assert all(line["ticket_id"] == ticket_id for line in found)
            assert {"time", "level", "logger", "message"} <= set(found[0])


def parsed_worker(path: Path) -> list[dict]:
    """The worker's lines, each one JSON (its parent process's too)."""
    return [json.loads(line) for line in path.read_text(errors="replace").splitlines()
            if line.strip()]
