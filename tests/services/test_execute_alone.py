"""Statements that run as their own transaction when none is open (PostgreSQL), and join the
open one otherwise."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import func, select, text

from tests.support.statements import first_words, sent_statements
from tests.support.world import actor, make_world
from web.extensions import db
from workflow.db import execute_alone
from workflow.domain.errors import RuleViolation
from workflow.models import Notification, Organisation, OutboxMessage, Ticket, TicketEvent
from workflow.tickets import decisions
from workflow.tickets.claims import claim_batch
from workflow.tickets.extensions import NUMBER_LOCK_CLASS, PICK_SPREAD
from workflow.tickets.kinds import TicketKind
from workflow.tickets.submission import TicketRequest, submit_ticket


def _status() -> TransactionStatus:
    """The transaction status of the session's PostgreSQL connection."""
    driver: Any = db.session.connection().connection.driver_connection
    assert driver.autocommit is False  # back to opening transactions after each statement
    return TransactionStatus(driver.info.transaction_status)


def test_a_read_with_no_transaction_open_opens_none(pg_only_app: Flask) -> None:
    db.session.commit()
    assert execute_alone(db.session(), select(func.count()).select_from(Ticket)).scalar() == 0
    assert _status() == TransactionStatus.IDLE


def test_a_write_with_no_transaction_open_is_committed_by_itself(pg_only_app: Flask) -> None:
    db.session.commit()
    execute_alone(db.session(), text("INSERT INTO organisation (name, extension_length, "
                                     "extension_prefix, reserved_extensions) "
                                     "VALUES ('Alone', 4, '', '[]')"))
    assert _status() == TransactionStatus.IDLE
    db.session.rollback()  # nothing left to roll back
    assert db.session.scalar(select(func.count()).where(Organisation.name == "Alone")) == 1


def test_a_statement_joins_the_open_transaction(pg_only_app: Flask) -> None:
    db.session.execute(select(1))
    execute_alone(db.session(), text("INSERT INTO organisation (name, extension_length, "
                                     "extension_prefix, reserved_extensions) "
                                     "VALUES ('Joined', 4, '', '[]')"))
    assert _status() == TransactionStatus.INTRANS
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(Organisation.name == "Joined")) == 0


def test_unflushed_changes_keep_the_statement_in_their_transaction(pg_only_app: Flask) -> None:
    db.session.commit()
    organisation = Organisation(name="Pending", extension_length=4, extension_prefix="",
                                reserved_extensions=[])
    db.session.add(organisation)
    execute_alone(db.session(), select(1))
    # The statement autoflushed nothing (Core) but opened the transaction the flush will use.
    assert _status() == TransactionStatus.INTRANS
    db.session.rollback()


def test_a_submission_started_with_no_transaction_open_leaves_none(pg_only_app: Flask) -> None:
    world = make_world()
    requester = actor(world.requester_id)
    db.session.commit()
    ticket = submit_ticket(db.session(), requester, TicketRequest(
        kind=TicketKind.NEW, employee_id=world.employee_ids[0]))
    assert _status() == TransactionStatus.IDLE
    assert db.session.get(Ticket, ticket.id) is not None
    with pytest.raises(RuleViolation):  # the same employee's second ticket: read afresh
        submit_ticket(db.session(), requester, TicketRequest(
            kind=TicketKind.NEW, employee_id=world.employee_ids[0]))
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_an_approval_with_no_transaction_open_is_a_read_and_one_write(pg_only_app: Flask) -> None:
    world = make_world()
    ticket = submit_ticket(db.session(), actor(world.requester_id), TicketRequest(
        kind=TicketKind.NEW, employee_id=world.employee_ids[0],
        notify_user_ids=(world.admin_id,)))
    approver = actor(world.approver_id)
    db.session.commit()
    with sent_statements() as statements:
        shown = decisions.approve_ticket(db.session(), approver, ticket.id)
    # The ticket read, then every write of the approval in one statement: no BEGIN, no COMMIT.
    assert first_words(statements) == ["SELECT", "WITH"]
    assert _status() == TransactionStatus.IDLE
    assert (shown.state, shown.version) == ("approved", 2)
    db.session.expire_all()
    approved = db.session.get(Ticket, ticket.id)
    assert (approved.state, approved.version, approved.created_at) == (
        "approved", 2, ticket.created_at)
    promise = db.session.scalars(select(OutboxMessage)).one()
    assert (promise.key, promise.actor_name, promise.args) == (
        f"provision:{ticket.id}:2", "provision_ticket", [ticket.id])
    notices = db.session.execute(
        select(Notification.user_id, Notification.ticket_id, Notification.created_at,
               Notification.superseded_at, TicketEvent.action)
        .join(TicketEvent, Notification.event_id == TicketEvent.id)
        .order_by(Notification.id)).all()
    assert {row.ticket_id for row in notices} == {ticket.id}
    assert {row.created_at for row in notices if row.action == "submit"} == {ticket.created_at}
    assert {row.user_id for row in notices if row.action == "approve"} == {
        world.requester_id, world.admin_id}
    # The watcher's notice of the submission is replaced by that of the approval; the
    # approver's stays as it was.
    assert {row.user_id for row in notices if row.superseded_at is not None} == {
        world.admin_id}
    assert world.approver_id in {row.user_id for row in notices if row.superseded_at is None}


def _statements_of(call: Any) -> tuple[Any, list[str]]:
    """What `call()` returns, and the first word of each statement it sent."""
    with sent_statements() as statements:
        returned = call()
    return returned, first_words(statements)


def test_an_automatic_pick_is_a_read_and_one_write_that_picks(pg_only_app: Flask) -> None:
    world = make_world()
    requester = actor(world.requester_id)
    db.session.commit()
    # 5000 is reserved: the statement skips it, as it skips any reserved number.
    first, statements = _statements_of(lambda: submit_ticket(db.session(), requester,
                                       TicketRequest(kind=TicketKind.NEW,
                                                     employee_id=world.employee_ids[0])))
    assert statements == ["SELECT", "WITH"]
    assert _status() == TransactionStatus.IDLE
    assert first.extension == "5001"
    second, statements = _statements_of(lambda: submit_ticket(db.session(), requester,
                                        TicketRequest(kind=TicketKind.NEW,
                                                      employee_id=world.employee_ids[1],
                                                      routing_type="app_web")))
    assert (second.extension, statements) == ("5002", ["SELECT", "WITH"])
    saved = db.session.get(Ticket, second.id)
    assert saved.extension == "5002"
    changes = db.session.scalars(select(TicketEvent.changes)
                                 .where(TicketEvent.ticket_id == second.id)).one()
    assert changes == {"extension": [None, "5002"],
                       "routing": [None, {"type": "app_web", "priority_number": None,
                                          "backup_number": None}]}


def test_a_pick_past_the_top_of_the_range_takes_the_lock_and_finds_a_gap(
        pg_only_app: Flask) -> None:
    world = make_world()
    requester = actor(world.requester_id)
    for index, extension in enumerate(("5001", "5999")):
        submit_ticket(db.session(), requester, TicketRequest(
            kind=TicketKind.NEW, employee_id=world.employee_ids[index], extension=extension))
    db.session.commit()
    gap, statements = _statements_of(lambda: submit_ticket(db.session(), requester,
                                     TicketRequest(kind=TicketKind.NEW,
                                                   employee_id=world.employee_ids[2])))
    assert gap.extension == "5002"
    # The statement that picks found nothing above 5999 and wrote nothing. Then, under the
    # pick lock (taken by the context read): the highest number, the smallest gap (twice:
    # the first is 5000, reserved), the filing.
    assert statements == ["SELECT", "WITH", "SELECT", "SELECT", "SELECT", "SELECT", "WITH"]
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 3


def test_when_filings_in_flight_hold_every_number_it_may_take_the_pick_reads_the_range(
        pg_only_app: Flask) -> None:
    world = make_world()
    requester = actor(world.requester_id)
    db.session.commit()
    # Other filings hold every number the statement that picks may try (5000 is reserved).
    with db.engine.connect() as in_flight:
        for number in range(5001, 5001 + 1 + PICK_SPREAD + 1):
            in_flight.execute(select(func.pg_advisory_xact_lock(NUMBER_LOCK_CLASS, number)))
        ticket, statements = _statements_of(lambda: submit_ticket(
            db.session(), requester, TicketRequest(kind=TicketKind.NEW,
                                                   employee_id=world.employee_ids[0])))
        in_flight.rollback()
    # That statement wrote nothing; then, under the pick lock (not held by filings that only
    # hold numbers), the highest number and the filing.
    assert statements == ["SELECT", "WITH", "SELECT", "SELECT", "WITH"]
    assert ticket.extension == "5001"
    assert db.session.scalars(select(Ticket.extension)).all() == ["5001"]


def test_a_claim_is_one_statement_whether_or_not_its_ticket_is_still_there(
    pg_only_app: Flask
) -> None:
    world = make_world()
    ids = [submit_ticket(db.session(), actor(world.requester_id), TicketRequest(
        kind=TicketKind.NEW, employee_id=employee_id)).id for employee_id in world.employee_ids[:2]]
    for ticket_id in ids:
        decisions.approve_ticket(db.session(), actor(world.approver_id), ticket_id)
    db.session.commit()
    lease = timedelta(minutes=5)
    taken, first = _statements_of(lambda: claim_batch(db.session(), ids[1], 20, lease))
    # The message's own ticket first, the other approved one with it: no read before, no
    # BEGIN or COMMIT around.
    assert [claim.id for claim in taken] == [ids[1], ids[0]]
    assert first == ["WITH"]
    assert _status() == TransactionStatus.IDLE
    again, second = _statements_of(lambda: claim_batch(db.session(), ids[0], 20, lease))
    assert again == [] and second == ["WITH"]  # its ticket went with the batch
    db.session.expire_all()
    assert {ticket.state for ticket in db.session.scalars(select(Ticket))} == {"provisioning"}
