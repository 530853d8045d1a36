"""Statements that run as their own transaction when none is open (PostgreSQL), and join the
open one otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import func, select, text

from tests.support.world import actor, make_world
from web.extensions import db
from workflow.db import execute_alone
from workflow.domain.errors import RuleViolation
from workflow.models import Organisation, Ticket
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
