"""One letter that fails in a way nobody foresaw holds back no other email and no other duty.

Legacy data (an audit event whose recorded extension is a bare number rather than a before
and after pair) made reading one notice's letter raise. The relay logs it, mails everything
else, re-sends the outbox and sweeps, and tries that letter again on the next pass. Mailed
through the real SMTP server of `tests/mail.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message

import pytest
from dramatiq import Message as QueuedMessage
from flask import Flask
from sqlalchemy import select, update

from tasks.actors import PROVISION_QUEUE
from tasks.mail import SmtpMailer, SmtpSettings
from tasks.relay import run_pass
from tasks.runtime import Runtime, runtime
from tests.support.mail import Inbox
from tests.support.world import World, actor, submit
from web.extensions import db
from workflow.models import Notification, OutboxMessage, Ticket, TicketEvent
from workflow.tickets import decisions


@pytest.fixture
def mailing(app: Flask, smtp: tuple[int, Inbox]) -> Iterator[tuple[Runtime, Inbox]]:
    """The app's relay mailing through the real SMTP server."""
    port, inbox = smtp
    deps = runtime(app)
    deps.mailer = SmtpMailer(SmtpSettings("127.0.0.1", port))
    yield deps, inbox
    deps.mailer = None


def unreadable_letters(world: World) -> int:
    """A ticket whose notices' letters cannot be read: its recorded extension is malformed."""
    ticket = submit(world, employee_id=world.employee_ids[1], extension="5002")
    db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(extension=None))
    db.session.execute(update(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                       .values(changes={"extension": 5002}))
    db.session.commit()
    return ticket.id


def waiting_notices(ticket_id: int) -> list[tuple[object, object]]:
    """(emailed at, parking reason) of each notice of a ticket."""
    db.session.rollback()
    return [tuple(row) for row in db.session.execute(
        select(Notification.emailed_at, Notification.email_error)
        .where(Notification.ticket_id == ticket_id))]


def queued_for(deps: Runtime, ticket_id: int) -> int:
    """How many provisioning messages for the ticket wait in the in-process broker."""
    queue = deps.broker.queues[PROVISION_QUEUE]  # type: ignore[attr-defined]
    return sum(list(QueuedMessage.decode(data).args) == [ticket_id] for data in list(queue.queue))


def text_of(message: Message) -> str:
    """The decoded text of a one-part email, one line break per line."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


def about(inbox: Inbox, ticket_id: int) -> list[Message]:
    """The emails about one ticket."""
    return [message for message in inbox.messages
            if text_of(message).endswith(f"/tickets/{ticket_id}\n")]


def test_a_letter_that_cannot_be_read_holds_back_nothing_else_and_is_retried(
    app: Flask, world: World, mailing: tuple[Runtime, Inbox]
) -> None:
    deps, inbox = mailing
    # Given a good ticket, a ticket whose letters cannot be read, and an approved ticket no
    # worker picked up (its outbox message is due again)
    good = submit(world, extension="5001").id
    broken = unreadable_letters(world)
    stuck = submit(world, employee_id=world.employee_ids[2], extension="5003").id
    decisions.approve_ticket(db.session, actor(world.approver_id), stuck)
    queued = queued_for(deps, stuck)

    # When the relay makes a pass
    run_pass(app, deps)

    # Then every other notice was mailed, the broken ones wait (not parked) ...
    assert about(inbox, good) and about(inbox, stuck)
    assert about(inbox, broken) == []
    assert waiting_notices(broken) and all(
        notice == (None, None) for notice in waiting_notices(broken))
    # ... and the outbox relay and the sweeper still re-sent the stuck ticket
    assert queued_for(deps, stuck) == queued + 2
    assert db.session.scalars(select(OutboxMessage.send_count).where(
        OutboxMessage.processed_at.is_(None))).one() == 1

    # When the data is repaired, the next pass mails the letters that waited, once
    db.session.execute(update(TicketEvent).where(TicketEvent.ticket_id == broken)
                       .values(changes={"extension": [None, "5002"]}))
    db.session.commit()
    mailed = len(inbox.messages)
    run_pass(app, deps)
    assert len(about(inbox, broken)) == len(waiting_notices(broken))
    assert "Số máy lẻ: 5002" in text_of(about(inbox, broken)[0])
    assert len(inbox.messages) == mailed + len(waiting_notices(broken))
    assert all(emailed is not None for emailed, _error in waiting_notices(broken))
