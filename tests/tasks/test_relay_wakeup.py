"""On PostgreSQL the relay emails when a transaction commits a notice or a password letter.

Its interval here is a minute, longer than any wait below: an email that arrives came from a
wake-up (the LISTEN heard the commit), not from the periodic pass. Each relay is a thread of
the test process, mailing through a real SMTP server to a real inbox; its connection is
killed as a database restart would.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import func, select, update

from tasks.logs import JsonFormatter
from tasks.mail import SmtpMailer, SmtpSettings
from tasks.relay import relay_once, start_relay_thread
from tasks.runtime import Runtime, runtime
from tasks.wakeups import CHANNEL
from tests.support.apps import PG_ADMIN_URL, wipe
from tests.support.mail import Inbox
from tests.support.processes import free_port
from tests.support.world import PASSWORD_HASH, make_world, submit
from web.extensions import db
from workflow import credentials
from workflow.domain.rules import Role
from workflow.models import Employee, Notification, OutboxMessage, utcnow
from workflow.people.accounts import save_user

#: The relay's interval in these tests: longer than any wait, so only a wake-up emails.
LONG_INTERVAL = 60.0
#: How long a test waits for an email (far longer than a wake-up takes).
PATIENCE = 30.0


def eventually(condition: Callable[[], bool], timeout: float = PATIENCE) -> bool:
    """Whether `condition` holds within `timeout` seconds (looked at every 20 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def mail_passes() -> float:
    """How many mail passes the relays of this process have finished (letters come last)."""
    return REGISTRY.get_sample_value(
        "agentdesk_relay_duties_total", {"duty": "letters_once", "result": "ok"}) or 0.0


def pending_notices() -> int:
    """Notices not emailed, parked or superseded yet."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.emailed_at.is_(None), Notification.email_error.is_(None),
        Notification.superseded_at.is_(None))) or 0


@dataclass
class Relay:
    """A relay thread of the app under test, mailing to `inbox`."""

    deps: Runtime
    inbox: Inbox
    stop: threading.Event
    thread: threading.Thread


@pytest.fixture
def start_relay(smtp: tuple[int, Inbox]) -> Iterator[Callable[..., Relay]]:
    """Start the app's relay (mailing to the SMTP server) once it is idle; stop it after."""
    started: list[tuple[Relay, dict[str, object]]] = []

    def start(app: Flask, interval: float = LONG_INTERVAL,
              listen_url: str | None = None) -> Relay:
        deps = runtime(app)
        kept = {"mailer": deps.mailer, "relay_interval": deps.relay_interval,
                "listen_url": deps.listen_url}
        deps.mailer = SmtpMailer(SmtpSettings("127.0.0.1", smtp[0]))
        deps.relay_interval = interval
        if listen_url is not None:
            deps.listen_url = listen_url
        before = mail_passes()
        thread, stop = start_relay_thread(app)
        relay = Relay(deps, smtp[1], stop, thread)
        started.append((relay, kept))
        # Its first pass done (it emails what is already due), the relay waits for work.
        assert eventually(lambda: mail_passes() > before)
        return relay

    yield start
    for relay, kept in started:
        relay.stop.set()
        relay.thread.join(timeout=10)
        assert not relay.thread.is_alive()
        for name, value in kept.items():
            setattr(relay.deps, name, value)


def listeners(app: Flask) -> list[int]:
    """The server processes LISTENing for the relay on the app's database."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND query = %s",
            (db.engine.url.database, f"LISTEN {CHANNEL}")).fetchall()
    return [pid for (pid,) in rows]


def test_a_notice_committed_while_the_relay_is_idle_is_emailed_at_once(
    pg_only_app: Flask, start_relay: Callable[..., Relay]
) -> None:
    world = make_world()
    relay = start_relay(pg_only_app)
    assert listeners(pg_only_app)

    submit(world)  # the approver's notice is committed with the ticket

    assert eventually(lambda: len(relay.inbox.messages) == 1)
    assert relay.inbox.messages[0]["To"] == world.emails["approver"]
    assert eventually(lambda: pending_notices() == 0)  # recorded once the pass commits


def test_a_password_letter_committed_while_the_relay_is_idle_is_emailed_at_once(
    pg_only_app: Flask, start_relay: Callable[..., Relay]
) -> None:
    world = make_world()
    db.session.execute(update(Employee).where(Employee.id == world.employee_ids[0])
                       .values(email="nhanvien@test.vn"))
    db.session.commit()
    relay = start_relay(pg_only_app)

    credentials.issue(db.session, relay.deps.provisioning.vault, "5001",
                      world.employee_ids[0], None)
    db.session.commit()

    assert eventually(lambda: len(relay.inbox.messages) == 1)
    assert relay.inbox.messages[0]["To"] == "nhanvien@test.vn"


def test_a_burst_of_notices_is_emailed_exactly_once_each(
    pg_only_app: Flask, start_relay: Callable[..., Relay]
) -> None:
    world = make_world(employees_per_department=10)
    # More approvers of the first branch than one pass emails, so that one submission's
    # notices, written by one statement, are more than a batch.
    approvers = [save_user(db.session, f"duyet{n}@test.vn", Role.APPROVER, PASSWORD_HASH,
                           f"Người Duyệt {n}", [world.branch_ids[0]]).id for n in range(105)]
    relay = start_relay(pg_only_app)

    submit(world, employee_id=world.employee_ids[0], extension="5010")
    # Then ticket after ticket in the other branch, each in its own transaction, while the
    # relay is mailing (each tells that branch's one approver).
    others = world.employee_ids[20:30]
    for index, employee in enumerate(others):
        submit(world, employee_id=employee, extension=f"50{index + 20}")

    expected = len(approvers) + 1 + len(others)
    assert eventually(lambda: len(relay.inbox.messages) >= expected and pending_notices() == 0)
    ids = [message["Message-ID"] for message in relay.inbox.messages]
    assert len(ids) == expected and len(set(ids)) == expected


def test_the_relay_listens_again_after_its_connection_is_killed(
    pg_only_app: Flask, start_relay: Callable[..., Relay], caplog: pytest.LogCaptureFixture
) -> None:
    world = make_world()
    relay = start_relay(pg_only_app)
    (first,) = listeners(pg_only_app)
    passes = mail_passes()

    with caplog.at_level(logging.INFO, logger="tasks.wakeups"), \
            psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        # It notices at once (the server closes the connection), listens anew, and makes a
        # pass for what it may have missed meanwhile.
        assert eventually(lambda: listeners(pg_only_app) not in ([], [first]))
        assert eventually(lambda: mail_passes() > passes)

        submit(world)

        assert eventually(lambda: len(relay.inbox.messages) == 1)
    assert relay.thread.is_alive()
    lost = [record for record in caplog.records if "cannot listen" in record.getMessage()]
    assert len(lost) == 1


def test_a_relay_that_cannot_listen_polls(
    pg_only_app: Flask, start_relay: Callable[..., Relay], caplog: pytest.LogCaptureFixture
) -> None:
    world = make_world()
    with caplog.at_level(logging.INFO, logger="tasks.wakeups"):
        nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/agentdesk"
        relay = start_relay(pg_only_app, listen_url=nobody)

        submit(world)

        assert eventually(lambda: len(relay.inbox.messages) == 1)
        # It keeps trying to listen, every poll, and says so once.
        passes = mail_passes()
        assert eventually(lambda: mail_passes() >= passes + 2)
    lost = [record for record in caplog.records if "cannot listen" in record.getMessage()]
    assert len(lost) == 1


def test_on_sqlite_the_relay_polls(
    sqlite_app: Flask, start_relay: Callable[..., Relay]
) -> None:
    with sqlite_app.app_context():
        wipe(sqlite_app)
        world = make_world()
        assert runtime(sqlite_app).listen_url is None
        relay = start_relay(sqlite_app, interval=0.2)

        submit(world)

        assert eventually(lambda: len(relay.inbox.messages) == 1)
        db.session.remove()


def test_the_relay_logs_a_re_sent_message_with_the_request_that_promised_it(
    app: Flask,
) -> None:
    ticket = submit(make_world())
    db.session.add(OutboxMessage(key="relay-trail", actor_name="provision_ticket",
                                 args=[ticket.id], request_id="trail-7",
                                 created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    relay_logger = logging.getLogger("tasks.relay")
    level = relay_logger.level
    relay_logger.setLevel(logging.INFO)
    relay_logger.addHandler(handler)
    try:
        relay_once(runtime(app))
    finally:
        relay_logger.removeHandler(handler)
        relay_logger.setLevel(level)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    (resent,) = [line for line in lines if "relay-trail" in line["message"]
                 or line.get("request_id") == "trail-7"]
    assert resent["request_id"] == "trail-7"
    assert "provision_ticket" in resent["message"]
