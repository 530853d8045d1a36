"""The production shape: PostgreSQL, Redis, separate Dramatiq worker and relay processes, SMTP."""

from __future__ import annotations

import hashlib
import re
from email.header import decode_header, make_header
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update

from tasks.mail import message_id
from tests.support.apps import build_app, fresh_pg_database, worker_suffix
from tests.support.mail import Inbox
from tests.support.processes import redis_server, running, wait_for
from tests.support.world import make_world
from web.extensions import db
from workflow.models import DirectoryEntry, Employee, Notification, Ticket, User
from workflow.people.accounts import actor_of
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket


def reveal(app: Flask, link: str) -> str:
    """Open a one-time link as the employee's browser would (its script posts the token after
    "#") and press the button; the password."""
    path, token = link.split("#", 1)
    client = app.test_client()
    page = client.get(path).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    fields = {"csrf_token": csrf.group(1), "token": token}
    assert client.post(path, data=fields).status_code == 200
    shown = client.post("/credentials/reveal", data=fields)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="sip-password">([^<]+)<', shown.get_data(as_text=True))
    assert password is not None
    assert client.post("/credentials/reveal", data=fields).status_code == 409  # once
    return password.group(1)


def test_a_ticket_goes_through_redis_workers_and_emails_people(
    tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    smtp_port, inbox = smtp
    url = fresh_pg_database(f"agentdesk_stack_{worker_suffix()}")
    app: Flask = build_app(url)
    with redis_server(tmp_path) as redis_url:
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_port),
            "RELAY_GRACE_SECONDS": "1",
            # The web and the workers must share the key that seals SIP passwords.
            "SECRET_KEY": "test-only-secret-key-never-in-production",
        }
        web_app = build_app(url, REDIS_URL=redis_url, SECRET_KEY=env["SECRET_KEY"])
        with web_app.app_context():
            # Given an organisation, a requester's ticket, and the worker and relay processes
            world = make_world(employees_per_department=1)
            employee = db.session.get_one(Employee, world.employee_ids[0])
            employee.email = "nhanvien@test.vn"
            # A watcher whose address (saved before addresses were checked) is two lines:
            # the relay parks their emails and goes on.
            db.session.execute(update(User).where(User.id == world.admin_id)
                               .values(email="admin@test.vn\nBcc: victim@evil.vn"))
            db.session.commit()
            requester = actor_of(db.session.get(User, world.requester_id))
            ticket = submit_ticket(
                db.session, requester, TicketRequest(TicketKind.NEW, world.employee_ids[0], "5001",
                                                     notify_user_ids=(world.admin_id,))
            )
            with (
                running(
                    ["agentdesk", "worker", "-p", "1", "-t", "2"], env, tmp_path / "worker.log"
                ),
                running(["agentdesk", "relay"], env, tmp_path / "relay.log") as relay,
            ):
                # When the approver approves it
                approver = actor_of(db.session.get(User, world.approver_id))
                decisions.approve_ticket(db.session, approver, ticket.id)

                # Then the worker provisions it and everyone concerned is told, by email too,
                # and the employee gets a one-time link to the new SIP password
                def state() -> str | None:
                    db.session.expire_all()
                    found = db.session.get(Ticket, ticket.id)
                    return found.state if found and found.state == "provisioned" else None

                wait_for(state, "the ticket to be provisioned", timeout=60)

                def waiting() -> list[int]:
                    """Notices the relay has still to email, park or leave superseded."""
                    db.session.rollback()
                    return list(db.session.scalars(select(Notification.id).where(
                        Notification.emailed_at.is_(None), Notification.email_error.is_(None),
                        Notification.superseded_at.is_(None))))

                def letter_sent() -> bool:
                    """The employee's password letter (sent apart from the notices) is in."""
                    return any(message["To"] == "nhanvien@test.vn" for message in inbox.messages)

                wait_for(lambda: not waiting() and letter_sent(),
                         "every notice emailed or parked, and the password letter", timeout=30)
                # The watcher's latest notice is parked; an earlier one the relay did not
                # reach before it was superseded is never emailed (nor parked).
                watched = db.session.scalars(select(Notification).where(
                    Notification.user_id == world.admin_id).order_by(Notification.id)).all()
                assert len(watched) == 3 and watched[-1].email_error is not None
                assert all(notice.email_error is not None or notice.superseded_at is not None
                           for notice in watched)
                assert relay.poll() is None  # the relay process lives on
    with web_app.app_context():
        emailed = db.session.scalars(
            select(Notification).where(Notification.emailed_at.is_not(None))
        ).all()
        letters = [message for message in inbox.messages if message["To"] == "nhanvien@test.vn"]
        assert len(letters) == 1
        link = re.search(r"http://localhost:5000(/credentials/open#\S+)",
                         letters[0].get_payload(decode=True).decode())
        assert link is not None
        password = reveal(web_app, link.group(1))
        # Only the password's digest is on the switchboard, and it is this password
        assert db.session.scalars(select(DirectoryEntry.secret_digest)).one() == (
            hashlib.sha256(password.encode()).hexdigest())
        assert all(password not in message.as_string() for message in inbox.messages)
        notices = [message for message in inbox.messages if message not in letters]
        recipients = sorted(message["To"] for message in notices)
        # "Provisioned", and "approved" only if the relay mailed it before the worker was done
        # (a notice still unsent when a later one of its ticket comes is superseded).
        requester_notices = db.session.scalars(select(Notification).where(
            Notification.user_id == world.requester_id).order_by(Notification.id)).all()
        assert recipients.count("requester@test.vn") == sum(
            notice.emailed_at is not None for notice in requester_notices)
        assert requester_notices[-1].event.action == "complete"
        assert requester_notices[-1].emailed_at is not None
        assert [notice.read_at is None for notice in requester_notices] == [False, True]
        assert "approver@test.vn" in recipients  # asked to approve
        assert len(emailed) == len(notices)
        # A resend after a crash would carry the same Message-ID, which mail software drops.
        assert sorted(message["Message-ID"] for message in notices) == sorted(
            message_id(notification.id, "agentdesk@localhost") for notification in emailed
        )
        subjects = {
            str(make_header(decode_header(message["Subject"]))) for message in notices
        }
        assert any("đã hoàn tất" in subject for subject in subjects)
        secret = db.session.scalars(select(DirectoryEntry.secret_digest)).one()
        assert all(secret not in message.as_string() for message in inbox.messages)
        db.engine.dispose()
    with app.app_context():
        db.engine.dispose()
