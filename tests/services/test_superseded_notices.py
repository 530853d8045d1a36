"""One ticket, one unread notice: a later notice retires the earlier unread or unsent ones.

An approval followed a second later by the worker's "provisioned" used to leave the requester
two unread notices (and two emails) about the same ticket. The later notice now supersedes
the earlier one to the same user: it is read, its email never goes, and the row stays.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import Connection, select, text

from tasks.mail import SmtpMailer, SmtpSettings
from tests.support.apps import drain
from tests.support.mail import Inbox
from tests.support.pages import signed_in_as
from tests.support.processes import wait_for
from tests.support.world import World, actor, make_world, submit
from web.extensions import db
from workflow.models import Notification, TicketEvent, User
from workflow.tickets import decisions, notifications


def notices_of(user_id: int, ticket_id: int) -> list[tuple[str, bool, bool]]:
    """A user's notices about a ticket, oldest first: (action, unread, superseded)."""
    db.session.expire_all()
    rows = db.session.execute(
        select(TicketEvent.action, Notification.read_at, Notification.superseded_at)
        .join(TicketEvent, TicketEvent.id == Notification.event_id)
        .where(Notification.user_id == user_id, Notification.ticket_id == ticket_id)
        .order_by(Notification.id)).all()
    return [(row.action, row.read_at is None, row.superseded_at is not None) for row in rows]


def notice(user_id: int, ticket_id: int, action: str) -> Notification:
    """The user's notice about the ticket's event with this action."""
    return db.session.scalars(select(Notification).join(TicketEvent).where(
        Notification.user_id == user_id, Notification.ticket_id == ticket_id,
        TicketEvent.action == action)).one()


def recipients(inbox: Inbox) -> list[str]:
    """The address of every message received, in order."""
    return [str(message["To"]) for message in inbox.messages]


def test_approved_then_provisioned_leaves_the_requester_one_unread_notice(
    app: Flask, world: World
) -> None:
    ticket = submit(world, extension="5001", notify_user_ids=(world.admin_id,))
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    drain(app)
    # The requester and the watcher: "approved" retired by "provisioned", both rows kept.
    assert notices_of(world.requester_id, ticket.id) == [
        ("approve", False, True), ("complete", True, False)]
    assert notices_of(world.admin_id, ticket.id) == [
        ("submit", False, True), ("approve", False, True), ("complete", True, False)]
    # The approver's notice of the submission is untouched (the approval is their own).
    assert notices_of(world.approver_id, ticket.id) == [("submit", True, False)]
    assert notifications.count_unread(db.session(), world.requester_id) == 1
    assert notifications.count_unread(db.session(), world.approver_id) == 1
    # The page and the bell: one unread notice, naming the extension.
    requester = signed_in_as(app, world, "requester")
    unread = requester.get("/notifications?unread=1").get_data(as_text=True)
    assert unread.count(f"Phiếu #{ticket.id}") == 1
    assert "Cấu hình xong" in unread and "số máy lẻ 5001" in unread
    assert 'class="badge text-bg-danger">1<' in requester.get("/agents").get_data(as_text=True)
    # The whole list still shows both, the audit trail too.
    everything = requester.get("/notifications").get_data(as_text=True)
    assert everything.count(f"Phiếu #{ticket.id}") == 2
    assert [event.action for event in db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))] == [
        "submit", "approve", "start", "complete"]


def test_the_superseded_email_never_goes_and_an_emailed_one_is_left_sent(
    app: Flask, world: World, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    mailer = SmtpMailer(SmtpSettings("127.0.0.1", port))
    requester = db.session.get(User, world.requester_id)
    assert requester is not None
    # Approved and provisioned before the relay's pass: one email, the last one.
    first = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), first.id)
    drain(app)
    notifications.email_pending(db.session(), mailer)
    assert recipients(inbox).count(requester.email) == 1
    assert notice(world.requester_id, first.id, "approve").emailed_at is None
    assert notice(world.requester_id, first.id, "complete").emailed_at is not None
    # The relay's pass came between the two: "approved" was emailed, then retired unread.
    second = submit(world, employee_id=world.employee_ids[1], extension="5002")
    decisions.approve_ticket(db.session, actor(world.approver_id), second.id)
    notifications.email_pending(db.session(), mailer)
    drain(app)
    notifications.email_pending(db.session(), mailer)
    assert recipients(inbox).count(requester.email) == 3
    assert notices_of(world.requester_id, second.id) == [
        ("approve", False, True), ("complete", True, False)]
    assert notice(world.requester_id, second.id, "approve").emailed_at is not None


def test_a_read_notice_already_emailed_is_left_as_it_was(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    approved = notice(world.requester_id, ticket.id, "approve")
    notifications.mark_read(db.session(), world.requester_id, approved.id)
    approved.emailed_at = approved.read_at
    db.session.commit()
    drain(app)
    assert notices_of(world.requester_id, ticket.id) == [
        ("approve", False, False), ("complete", True, False)]


def test_superseding_is_idempotent_and_never_retires_a_later_notice(
    app: Flask, world: World
) -> None:
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    drain(app)
    retired = notice(world.requester_id, ticket.id, "approve")
    when = retired.superseded_at
    events = {event.action: event.id for event in db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))}
    # A redelivered event, earlier or later, changes nothing.
    notifications.supersede_earlier(db.session(), [(ticket.id, events["complete"])])
    notifications.supersede_earlier(db.session(), [(ticket.id, events["approve"])])
    db.session.commit()
    assert notices_of(world.requester_id, ticket.id) == [
        ("approve", False, True), ("complete", True, False)]
    assert notice(world.requester_id, ticket.id, "approve").superseded_at == when


def test_each_ticket_of_a_batch_retires_only_its_own_notices(app: Flask, world: World) -> None:
    tickets = [submit(world, employee_id=world.employee_ids[index], extension=f"500{index + 1}")
               for index in range(3)]
    for ticket in tickets:
        decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    drain(app)
    for ticket in tickets:
        assert notices_of(world.requester_id, ticket.id) == [
            ("approve", False, True), ("complete", True, False)]
    assert notifications.count_unread(db.session(), world.requester_id) == 3
    unread = notifications.list_notifications(db.session(), world.requester_id, unread_only=True)
    assert sorted(each.ticket_id for each in unread) == sorted(ticket.id for ticket in tickets)


def waiting_for_a_lock(watcher: Connection) -> bool:
    """Whether some transaction of this database waits for a row lock right now."""
    return bool(watcher.scalar(text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'")))


def test_a_notice_the_relay_is_emailing_is_superseded_once_its_email_went(
    pg_only_app: Flask,
) -> None:
    world = make_world()
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    approved = notice(world.requester_id, ticket.id, "approve").id
    db.session.commit()
    with db.engine.connect() as relay, \
            db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        # The relay's pass holds the "approved" notice while its email goes (FOR UPDATE)
        relay.execute(text("SELECT id FROM notification WHERE id = :id FOR UPDATE"),
                      {"id": approved})
        worker = threading.Thread(target=drain, args=(pg_only_app,))
        worker.start()
        # The worker's "provisioned" waits for that email rather than skipping the notice
        wait_for(lambda: waiting_for_a_lock(watcher), "the worker to wait for the relay")
        relay.execute(text("UPDATE notification SET emailed_at = :now WHERE id = :id"),
                      {"id": approved, "now": datetime.now(UTC).replace(tzinfo=None)})
        relay.commit()
        worker.join(timeout=60)
    assert not worker.is_alive()
    # Then the emailed "approved" is read and superseded, "provisioned" the one unread notice
    assert notices_of(world.requester_id, ticket.id) == [
        ("approve", False, True), ("complete", True, False)]
    assert notice(world.requester_id, ticket.id, "approve").emailed_at is not None
