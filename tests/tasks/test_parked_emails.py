"""The relay parks an email that cannot go, delivers the others, and never stops.

Legacy rows with line breaks in a name or an address (written before names and emails were
checked) used to make the mailer raise while setting a header, which ended the relay pass
after pass. Every test here mails through the real SMTP server of `tests/support/mail.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from dramatiq import Message as QueuedMessage
from flask import Flask
from sqlalchemy import select

from tasks.actors import PROVISION_QUEUE
from tasks.mail import SmtpMailer, SmtpSettings
from tasks.relay import run_pass, start_relay_thread
from tasks.runtime import Runtime, runtime
from tests.support.mail import POISONED_EMAIL, Inbox
from tests.support.processes import free_port, wait_for
from tests.support.world import World, actor, legacy, submit, ticket_done
from web.extensions import db
from workflow.models import Employee, Notification, OutboxMessage, SipCredential, User, utcnow
from workflow.tickets import decisions

#: Legacy values: a name that would add a Bcc header, and addresses that are two lines.
NAME_WITH_BCC = "Nguyễn Văn\nBcc: victim@evil.vn"
NAME_WITH_SEPARATORS = "Trần\u2028Thị\x85Hoa"


@pytest.fixture
def mailing(app: Flask, smtp: tuple[int, Inbox]) -> Iterator[tuple[Runtime, Inbox]]:
    """The app's relay mailing through the real SMTP server, passes close together."""
    port, inbox = smtp
    deps = runtime(app)
    interval = deps.relay_interval
    deps.mailer, deps.relay_interval = SmtpMailer(SmtpSettings("127.0.0.1", port)), 0.05
    yield deps, inbox
    deps.mailer, deps.relay_interval = None, interval


def ticket_stuck(world: World, employee: int) -> int:
    """A ticket approved but never picked up by a worker (the sweeper's business)."""
    ticket_id = submit(world, employee_id=world.employee_ids[employee]).id
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket_id)
    return ticket_id


def poisoned_world(app: Flask, world: World) -> dict[str, int]:
    """Good and legacy-poisoned notices and letters, a stuck ticket and a stale password."""
    legacy(Employee, world.employee_ids[0], full_name=NAME_WITH_BCC, email="nv0@test.vn")
    legacy(Employee, world.employee_ids[1], full_name=NAME_WITH_SEPARATORS)
    legacy(Employee, world.employee_ids[8], email=POISONED_EMAIL)
    legacy(User, world.other_approver_id, email="approver2@test.vn\nBcc: victim@evil.vn")
    good = ticket_done(app, world, 0, world.approver_id)
    poisoned = ticket_done(app, world, 8, world.other_approver_id)
    stuck = ticket_stuck(world, 1)
    stale = SipCredential(sip_username="stale", employee_id=world.employee_ids[2],
                          state="pending", secret="sealed", created_at=utcnow(),
                          expires_at=utcnow() - timedelta(minutes=1))
    db.session.add(stale)
    db.session.commit()
    return {"good": good, "poisoned": poisoned, "stuck": stuck, "stale": stale.id}


def subject(message: Message) -> str:
    """A message's decoded Subject."""
    return str(make_header(decode_header(message["Subject"])))


def queued_for(deps: Runtime, ticket_id: int) -> int:
    """How many provisioning messages for the ticket wait in the in-process broker."""
    queue = deps.broker.queues[PROVISION_QUEUE]  # type: ignore[attr-defined]
    return sum(list(QueuedMessage.decode(data).args) == [ticket_id] for data in list(queue.queue))


def parked_notices() -> dict[int, str | None]:
    """The recipients of notices to email but not emailed, with their parking reason."""
    db.session.rollback()
    return {row.user_id: row.email_error for row in db.session.execute(
        select(Notification.user_id, Notification.email_error)
        .where(Notification.emailed_at.is_(None), Notification.superseded_at.is_(None)))}


def test_one_pass_parks_the_poisoned_emails_and_does_everything_else(
    app: Flask, world: World, mailing: tuple[Runtime, Inbox]
) -> None:
    deps, inbox = mailing
    ids = poisoned_world(app, world)
    queued = queued_for(deps, ids["stuck"])

    run_pass(app, deps)

    # The notice to the user whose address is two lines is parked with the reason
    assert parked_notices() == {
        world.other_approver_id: "the recipient's email address is not a valid address"}
    letters = {row.employee_id: row for row in db.session.scalars(select(SipCredential))}
    poisoned = letters[world.employee_ids[8]]
    assert poisoned.email_error == "the recipient's email address is not a valid address"
    # its link was never sent, so none works; its claim is released
    assert (poisoned.link_digest, poisoned.mailing_until, poisoned.emailed_at) == (
        None, None, None)
    # Every other notice and letter reached the mail server in the same pass (the requester's
    # "approved" of a ticket already provisioned was superseded by its "provisioned")
    recipients = sorted(message["X-RcptTo"] for message in inbox.messages)
    assert recipients == sorted(["approver@test.vn"] * 2 + ["requester@test.vn"] * 3
                                + ["nv0@test.vn"])
    assert letters[world.employee_ids[0]].emailed_at is not None
    # A name with line breaks is one line of the Subject: no header was injected
    subjects = [subject(message) for message in inbox.messages]
    assert any("Nguyễn Văn Bcc: victim@evil.vn" in each for each in subjects)
    assert any("Trần Thị Hoa" in each for each in subjects)
    assert all(message["Bcc"] is None for message in inbox.messages)
    # The other duties ran too: the stale password expired, the stuck ticket was re-sent
    # by the outbox relay and by the sweeper
    assert letters[world.employee_ids[2]].state == "expired"
    assert letters[world.employee_ids[2]].secret is None
    assert queued_for(deps, ids["stuck"]) == queued + 2

    # A second pass leaves the parked ones alone and sends nothing twice
    run_pass(app, deps)
    assert len(inbox.messages) == 6
    assert world.other_approver_id in parked_notices()


def test_the_relay_thread_lives_on_through_pass_after_pass(
    app: Flask, world: World, mailing: tuple[Runtime, Inbox]
) -> None:
    _deps, inbox = mailing
    ids = poisoned_world(app, world)
    thread, stop = start_relay_thread(app)
    try:
        def outbox_resent() -> int:
            db.session.rollback()
            return db.session.scalars(select(OutboxMessage.send_count).where(
                OutboxMessage.processed_at.is_(None))).one()

        wait_for(lambda: outbox_resent() >= 3, "three passes of the relay")
        wait_for(lambda: len(inbox.messages) >= 6, "the good emails")
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert world.other_approver_id in parked_notices()
    stale = db.session.get_one(SipCredential, ids["stale"])
    assert stale.state == "expired"


class Refusing(Inbox):
    """A mail server that refuses gone@ for good and busy@ for now."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy@"):
            return "451 4.2.0 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing() -> Iterator[tuple[SmtpMailer, Refusing]]:
    """A mailer for a real SMTP server that refuses some recipients."""
    inbox, port = Refusing(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpMailer(SmtpSettings("127.0.0.1", port)), inbox
    controller.stop()


def watched(world: World) -> None:
    """A submission whose notices go to the approver, the admin and the other approver."""
    submit(world, employee_id=world.employee_ids[3],
           notify_user_ids=(world.admin_id, world.other_approver_id))


def test_a_recipient_the_server_refuses_for_good_is_parked_alone(
    app: Flask, world: World, refusing: tuple[SmtpMailer, Refusing]
) -> None:
    mailer, inbox = refusing
    legacy(User, world.admin_id, email="gone@test.vn")
    watched(world)
    deps = runtime(app)
    deps.mailer = mailer
    try:
        run_pass(app, deps)
    finally:
        deps.mailer = None
    assert parked_notices() == {
        world.admin_id: "recipient refused: 550 5.1.1 No such user here"}
    assert sorted(message["X-RcptTo"] for message in inbox.messages) == [
        "approver2@test.vn", "approver@test.vn"]


def test_mail_down_or_busy_leaves_the_emails_waiting_not_parked(
    app: Flask, world: World, smtp: tuple[int, Inbox], refusing: tuple[SmtpMailer, Refusing]
) -> None:
    legacy(User, world.admin_id, email="busy@test.vn")
    legacy(Employee, world.employee_ids[0], email="nv0@test.vn")
    ticket_done(app, world, 0, world.approver_id)
    watched(world)
    deps = runtime(app)
    try:
        # Nobody listens: the pass stops, nothing is parked
        deps.mailer = SmtpMailer(SmtpSettings("127.0.0.1", free_port()))
        run_pass(app, deps)
        assert set(parked_notices().values()) == {None}
        letter = db.session.scalars(select(SipCredential)).one()
        assert (letter.emailed_at, letter.email_error, letter.mailing_until) == (None, None, None)
        # A temporary refusal (4xx) is mail not taking it now: it waits, not parked
        deps.mailer = refusing[0]
        run_pass(app, deps)
        waiting = parked_notices()
        assert world.admin_id in waiting and set(waiting.values()) == {None}
        # and when the server is back to normal it goes out
        deps.mailer = SmtpMailer(SmtpSettings("127.0.0.1", smtp[0]))
        run_pass(app, deps)
        assert parked_notices() == {}
    finally:
        deps.mailer = None
    db.session.rollback()
    assert db.session.scalars(select(SipCredential.emailed_at)).one() is not None
