"""Approve, reject, cancel, retry: guards, audit trail, outbox and notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from tasks.relay import email_once, relay_once, sweep_once
from tasks.runtime import runtime
from tests.support.apps import drain
from tests.support.world import World, actor, failed_ticket, submit
from web.extensions import db
from workflow.domain.errors import Conflict, PermissionDenied, RuleViolation, TransitionNotAllowed
from workflow.models import (
    Agent,
    DirectoryEntry,
    DirectoryWrite,
    Notification,
    OutboxMessage,
    Ticket,
    TicketEvent,
    utcnow,
)
from workflow.ports import NotificationLetter
from workflow.tickets import decisions
from workflow.tickets.notifications import email_pending


def events_of(ticket_id: int) -> list[tuple[str, str | None, str]]:
    """(action, from, to) of a ticket's timeline."""
    rows = db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return [(event.action, event.from_state, event.to_state) for event in rows]


def notified(ticket_id: int, action: str) -> set[int]:
    """Who got a notification of `action` on the ticket."""
    return set(
        db.session.scalars(
            select(Notification.user_id)
            .join(TicketEvent, Notification.event_id == TicketEvent.id)
            .where(Notification.ticket_id == ticket_id, TicketEvent.action == action)
        )
    )


def test_an_approved_ticket_is_provisioned_once_with_a_full_timeline(
    app: Flask, world: World
) -> None:
    ticket = submit(world, extension="5001", notify_user_ids=(world.admin_id,))
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id, "  ok  ")
    drain(app)
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.state == "provisioned" and ticket.attempts == 1
    assert events_of(ticket.id) == [
        ("submit", None, "submitted"),
        ("approve", "submitted", "approved"),
        ("start", "approved", "provisioning"),
        ("complete", "provisioning", "provisioned"),
    ]
    entry = db.session.get(DirectoryEntry, ticket.sip_username)
    assert (entry.extension, entry.routing_type) == ("5001", "app_web")
    assert db.session.scalar(select(func.count()).select_from(DirectoryWrite)) == 1
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.processed_at.is_(None))
        )
        == 0
    )
    assert notified(ticket.id, "submit") == {world.approver_id, world.admin_id}
    assert notified(ticket.id, "approve") == {world.requester_id, world.admin_id}
    assert notified(ticket.id, "complete") == {world.requester_id, world.admin_id}


def test_running_provisioning_again_changes_nothing(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    drain(app)
    # A redelivered message and a sweeper pass find the work done.
    runtime(app).dispatcher.send("provision_ticket", [ticket.id])
    assert sweep_once(runtime(app)) == 0
    drain(app)
    assert db.session.scalar(select(func.count()).select_from(DirectoryWrite)) == 1
    assert db.session.scalar(select(func.count()).select_from(Agent)) == 1


def test_an_approval_whose_message_was_lost_is_relayed(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    broker = runtime(app).broker
    broker.flush_all()  # the message is lost, as when Redis drops it
    assert relay_once(runtime(app)) == 1  # the provisioning promised by the approval
    drain(app)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "provisioned"
    assert relay_once(runtime(app)) == 0


def test_a_ticket_stuck_in_approved_is_swept(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    runtime(app).broker.flush_all()
    db.session.execute(update(OutboxMessage).values(processed_at=utcnow()))
    db.session.commit()
    assert sweep_once(runtime(app)) == 1
    drain(app)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "provisioned"


def test_rejecting_without_a_reason_is_refused(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    with pytest.raises(RuleViolation) as refused:
        decisions.reject_ticket(db.session, actor(world.approver_id), ticket.id, "   ")
    assert list(refused.value.problems) == ["reason"]
    decisions.reject_ticket(db.session, actor(world.approver_id), ticket.id, "Sai phòng ban")
    assert events_of(ticket.id)[-1] == ("reject", "submitted", "rejected")
    # A rejected ticket frees its employee and extension.
    assert submit(world, extension="5001").state == "submitted"


@pytest.mark.parametrize(
    ("who", "reason"),
    [("requester_id", "not_an_approver"), ("other_approver_id", "out_of_scope")],
)
def test_only_approvers_in_scope_decide(app: Flask, world: World, who: str, reason: str) -> None:
    ticket = submit(world, extension="5001")
    with pytest.raises(PermissionDenied) as refused:
        decisions.approve_ticket(db.session, actor(getattr(world, who)), ticket.id)
    assert refused.value.code == reason


def test_nobody_approves_their_own_ticket(app: Flask, world: World) -> None:
    ticket = submit_ticket_as(world, world.admin_id)
    with pytest.raises(PermissionDenied):
        decisions.approve_ticket(db.session, actor(world.admin_id), ticket.id)


def submit_ticket_as(world: World, user_id: int) -> Ticket:
    """Submit a new ticket as another user."""
    from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

    return submit_ticket(
        db.session, actor(user_id), TicketRequest(TicketKind.NEW, world.employee_ids[0], "5001")
    )


def test_a_decided_ticket_cannot_be_decided_again(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    decisions.reject_ticket(db.session, actor(world.approver_id), ticket.id, "Không cần")
    with pytest.raises(TransitionNotAllowed) as refused:
        decisions.approve_ticket(db.session, actor(world.admin_id), ticket.id)
    assert str(refused.value) == "Can't approve when in rejected."
    assert isinstance(refused.value, Conflict)


def test_a_stale_copy_loses_the_compare_and_set(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    stale = db.session.get(Ticket, ticket.id)
    version = stale.version
    decisions.cancel_ticket(db.session, actor(world.requester_id), ticket.id)
    db.session.expire_all()
    stale = db.session.get(Ticket, ticket.id)
    # What a concurrent approver loaded before the cancel still holds in memory.
    set_committed_value(stale, "state", "submitted")
    set_committed_value(stale, "version", version)
    with pytest.raises(Conflict):
        decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    db.session.rollback()
    assert db.session.get(Ticket, ticket.id).state == "cancelled"


def test_only_the_requester_or_an_admin_cancels(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    with pytest.raises(PermissionDenied):
        decisions.cancel_ticket(db.session, actor(world.approver_id), ticket.id)
    decisions.cancel_ticket(db.session, actor(world.requester_id), ticket.id, "Nhầm người")
    assert events_of(ticket.id)[-1] == ("cancel", "submitted", "cancelled")


def test_a_failing_switchboard_fails_the_ticket_after_the_last_attempt_then_retry_works(
    app: Flask, world: World
) -> None:
    ticket = failed_ticket(app, world)
    assert (ticket.state, ticket.attempts) == ("failed", runtime(app).provisioning.max_attempts)
    assert ticket.last_error == "switchboard unreachable"
    assert notified(ticket.id, "fail") == {world.requester_id}
    with pytest.raises(PermissionDenied):
        decisions.retry_ticket(db.session, actor(world.requester_id), ticket.id)
    decisions.retry_ticket(db.session, actor(world.approver_id), ticket.id)
    drain(app)
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.state, ticket.attempts) == ("provisioned", 1)
    assert ("retry", "failed", "approved") in events_of(ticket.id)


class SmtpDown:
    """A mailer whose server refuses connections after `works` messages."""

    base_url = "http://localhost:5000"

    def __init__(self, works: int) -> None:
        self.works = works
        self.sent: list[int] = []

    def send_notification(self, letter: NotificationLetter) -> None:
        if len(self.sent) >= self.works:
            raise ConnectionRefusedError("smtp down")
        self.sent.append(letter.user_id)


def test_unsent_notices_are_emailed_once_and_resumed_after_a_mail_outage(
    app: Flask, world: World
) -> None:
    # Given three notices of a submission (two approvers' worth plus a watcher)
    submit(world, extension="5001", notify_user_ids=(world.admin_id, world.other_approver_id))
    deps = runtime(app)
    flaky = SmtpDown(works=1)
    # When the mail server fails after the first email
    assert email_pending(db.session(), flaky, timedelta(days=1)) == 1
    # Then the rest are sent on a later pass, and nothing is sent twice
    working = SmtpDown(works=99)
    assert email_pending(db.session(), working, timedelta(days=1)) == 2
    assert email_pending(db.session(), working, timedelta(days=1)) == 0
    assert sorted(flaky.sent + working.sent) == sorted(
        [world.approver_id, world.admin_id, world.other_approver_id]
    )
    assert deps.mailer is None and email_once(deps) == 0  # no mail server: nothing to do
