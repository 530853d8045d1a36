"""Statements run alone on psycopg's cursor: the same rows, values and errors as SQLAlchemy's
execution gives, with SQLAlchemy's execution skipped."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from psycopg.errors import UniqueViolation
from psycopg.pq import TransactionStatus
from sqlalchemy import JSON, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tests.support.concurrency import DEADLINE
from tests.support.statements import executed_by_sqlalchemy, sent_statements
from tests.support.world import actor, make_world
from web.extensions import db
from workflow.db import UTCDateTime, execute_alone
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict
from workflow.models import Organisation, Ticket, TicketEvent, User
from workflow.tickets.filing import file_ticket
from workflow.tickets.kinds import TicketKind
from workflow.tickets.submission import TicketRequest, submit_ticket

#: A read with a timestamp read back aware, JSON, a JSON list and a window function.
_TICKETS = (
    select(Ticket.id, Ticket.extension, Ticket.created_at, Ticket.reset_password,
           TicketEvent.changes, Organisation.reserved_extensions,
           func.count().over().label("tickets"))
    .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
    .join(Organisation, Organisation.id == bindparam("organisation_id"))
    .where(Ticket.employee_id.in_(select(func.unnest(bindparam("employee_ids")))))
    .order_by(Ticket.id)
)
_REFUSE = text("INSERT INTO sign_in_refusal (address, until) VALUES (:address, :until)") \
    .bindparams(bindparam("until", type_=UTCDateTime))
_BACKEND = select(func.pg_backend_pid())
_ROUTING_TYPE = text("SELECT CAST(:routing AS json) ->> 'type'") \
    .bindparams(bindparam("routing", type_=JSON))


def _idle() -> bool:
    """Whether the session's connection is back to opening transactions, none open."""
    driver: Any = db.session.connection().connection.driver_connection
    return driver.autocommit is False and driver.info.transaction_status == TransactionStatus.IDLE


def test_rows_read_on_the_driver_are_those_sqlalchemy_reads(pg_only_app: Flask) -> None:
    world = make_world()
    for index, extension in enumerate(("5001", "5002")):
        submit_ticket(db.session(), actor(world.requester_id), TicketRequest(
            kind=TicketKind.NEW, employee_id=world.employee_ids[index], extension=extension))
    db.session.commit()
    params = {"organisation_id": world.organisation_id, "employee_ids": world.employee_ids[:2]}

    with sent_statements() as sent, executed_by_sqlalchemy(db.engine) as by_sqlalchemy:
        alone = execute_alone(db.session(), _TICKETS, params).all()
    assert _idle()
    along = db.session.execute(_TICKETS, params).all()

    assert len(sent) == 1 and by_sqlalchemy == []  # it ran, and not through SQLAlchemy
    assert alone == along and len(alone) == 2
    assert [list(row._mapping) for row in alone] == [list(row._mapping) for row in along]
    first = alone[0]
    assert first.created_at.tzinfo is UTC  # through the column type's result processing
    assert first.changes["extension"] == [None, "5001"]
    assert (first.reserved_extensions, first.tickets, first.reset_password) == (["5000"], 2, False)


def test_values_bound_on_the_driver_go_through_their_types(pg_only_app: Flask) -> None:
    db.session.commit()
    hanoi = timezone(timedelta(hours=7))
    with executed_by_sqlalchemy(db.engine) as by_sqlalchemy:
        execute_alone(db.session(), _REFUSE, {
            "address": "203.0.113.9", "until": datetime(2026, 12, 5, 9, 30, tzinfo=hanoi)})
    assert by_sqlalchemy == []
    assert _idle()  # committed by itself
    stored = db.session.execute(text("SELECT until FROM sign_in_refusal")).scalar_one()
    assert stored == datetime(2026, 12, 5, 2, 30)  # naive UTC, as UTCDateTime stores it
    db.session.commit()
    routing = {"type": "priority", "priority_number": "0912345678"}
    assert execute_alone(db.session(), _ROUTING_TYPE, {"routing": routing}).scalar_one() \
        == "priority"  # a dict, serialised by the JSON type


def test_a_unique_violation_is_sqlalchemys_integrity_error(pg_only_app: Flask) -> None:
    db.session.commit()
    refusal = {"address": "203.0.113.9", "until": datetime.now(UTC)}
    execute_alone(db.session(), _REFUSE, refusal)

    with pytest.raises(IntegrityError) as raised:
        execute_alone(db.session(), _REFUSE, refusal)

    assert isinstance(raised.value.orig, UniqueViolation)
    assert "sign_in_refusal" in str(raised.value)
    assert _idle()  # the statement failed alone: nothing to roll back, nothing left open
    db.session.rollback()
    assert db.session.execute(text("SELECT count(*) FROM sign_in_refusal")).scalar_one() == 1


def test_a_filing_that_loses_its_extension_to_a_filing_in_flight_is_a_conflict(
        pg_only_app: Flask) -> None:
    world = make_world()
    requester = actor(world.requester_id)
    db.session.commit()
    first, second = world.employee_ids[:2]
    with Session(db.engine) as in_flight:
        # Another filing holds 5001 in a transaction not yet committed
        now = datetime.now(UTC)
        row = {"kind": "new", "employee_id": first, "branch_id": world.branch_ids[0],
               "agent_id": None, "extension": "5001", "routing_type": "app_web",
               "priority_number": None, "backup_number": None, "sip_username": None,
               "reset_password": False, "details": "", "requester_id": world.requester_id,
               "idempotency_key": None, "state": "submitted", "version": 1, "attempts": 0,
               "created_at": now, "updated_at": now}
        file_ticket(in_flight, row, [], {"extension": [None, "5001"]})

        def submit_the_same_extension() -> Any:
            with pg_only_app.app_context():
                try:
                    return submit_ticket(db.session(), requester, TicketRequest(
                        kind=TicketKind.NEW, employee_id=second, extension="5001"))
                except Conflict as conflict:
                    return conflict

        with ThreadPoolExecutor(max_workers=1) as pool:
            racing = pool.submit(submit_the_same_extension)
            try:
                _wait_for_a_filing_blocked_on(in_flight)
            finally:  # released even when the wait fails, or the thread would never end
                in_flight.commit()
            outcome = racing.result(timeout=DEADLINE)

    # Its filing, run alone on the driver, met the unique index: a conflict, not a 500
    assert isinstance(outcome, Conflict) and outcome.code == ErrorCode.EXTENSION_RACE
    assert db.session.execute(text("SELECT employee_id FROM ticket WHERE extension = '5001'")
                              ).scalars().all() == [first]


def _wait_for_a_filing_blocked_on(holder: Session) -> None:
    """Until another backend waits for a lock `holder`'s transaction holds."""
    holder_pid = holder.execute(_BACKEND).scalar_one()
    waiting = text("SELECT count(*) FROM pg_stat_activity "
                   "WHERE :pid = ANY(pg_blocking_pids(pid)) AND query LIKE 'WITH new_ticket%'")
    deadline = time.monotonic() + DEADLINE
    # Each look in a transaction of its own: one transaction sees the same activity throughout.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        while not watcher.execute(waiting, {"pid": holder_pid}).scalar_one():
            assert time.monotonic() < deadline, "the second filing never reached the index"
            time.sleep(0.01)


def test_a_connection_broken_under_a_statement_is_invalidated_then_replaced(
        pg_only_app: Flask) -> None:
    db.session.commit()
    backend = execute_alone(db.session(), _BACKEND).scalar_one()
    with db.engine.connect() as other:
        assert other.execute(select(func.pg_terminate_backend(backend))).scalar_one() is True

    with pytest.raises(OperationalError) as raised:
        execute_alone(db.session(), _BACKEND)

    assert raised.value.connection_invalidated is True
    db.session.rollback()
    assert execute_alone(db.session(), _BACKEND).scalar_one() != backend


def test_a_statement_with_expanding_parameters_goes_through_sqlalchemy(
        pg_only_app: Flask) -> None:
    world = make_world()
    db.session.commit()
    users = select(User.id).where(User.id.in_(bindparam("ids", expanding=True))).order_by(User.id)
    ids = sorted((world.requester_id, world.admin_id))

    with executed_by_sqlalchemy(db.engine) as by_sqlalchemy:
        found = execute_alone(db.session(), users, {"ids": ids}).scalars().all()

    assert found == ids
    assert len(by_sqlalchemy) == 1  # SQLAlchemy renders the list; still run alone
    assert _idle()
