"""Automatic extension picks racing on PostgreSQL each get their own number."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import func, select, text

from tests.support.world import make_world
from web.extensions import db
from workflow.models import Ticket, User, current_organisation
from workflow.people.accounts import actor_of
from workflow.tickets.extensions import (
    NEXT_ABOVE_HIGHEST,
    NUMBER_LOCK_CLASS,
    PICK_LOCK_KEY,
    next_free_params,
)
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

#: How many submissions race at once.
RACERS = 6


def test_concurrent_automatic_picks_get_distinct_extensions(pg_only_app: Flask) -> None:
    # Given six employees and one requester
    world = make_world(employees_per_department=2)
    start = threading.Barrier(RACERS)

    def file_ticket(index: int) -> str | None:
        with pg_only_app.app_context():
            requester = actor_of(db.session.get(User, world.requester_id))
            start.wait()
            # When they all ask for "the next free extension" at the same moment
            ticket = submit_ticket(db.session, requester, TicketRequest(
                TicketKind.NEW, world.employee_ids[index]))
            return ticket.extension

    with ThreadPoolExecutor(RACERS) as pool:
        picked = list(pool.map(file_ticket, range(RACERS)))
    # Then every submission succeeds, with the smallest free numbers, none twice
    assert sorted(picked) == [f"500{n}" for n in range(1, RACERS + 1)]


def test_a_number_another_filing_is_taking_is_skipped_without_waiting(
        pg_only_app: Flask) -> None:
    # Given a filing in flight that holds the locks of 5001 and 5002 (it has not committed)
    world = make_world(employees_per_department=2)
    requester_id = world.requester_id
    with db.engine.connect() as in_flight:
        for number in (5001, 5002):
            in_flight.execute(select(func.pg_advisory_xact_lock(NUMBER_LOCK_CLASS, number)))

        def file_next(index: int) -> str | None:
            with pg_only_app.app_context():
                requester = actor_of(db.session.get(User, requester_id))
                return submit_ticket(db.session, requester, TicketRequest(
                    TicketKind.NEW, world.employee_ids[index])).extension

        # When two submissions ask for the next free extension meanwhile
        with ThreadPoolExecutor(1) as pool:
            # (a hang guard only: a filing that waited for the locks would never finish)
            picked = [pool.submit(file_next, index).result(timeout=60) for index in (0, 1)]
        in_flight.rollback()
    # Then each takes the next number nobody is taking, and nothing waited for the other
    assert picked == ["5003", "5004"]
    # And the numbers given up by the filing that did not commit stay free for later
    assert db.session.scalars(select(Ticket.extension).order_by(Ticket.extension)).all() == [
        "5003", "5004"]


def test_a_pick_locks_only_the_number_it_takes(pg_only_app: Flask) -> None:
    make_world()
    policy = current_organisation(db.session).policy
    # Inside a transaction, so that its locks are still held when read
    number = db.session.execute(NEXT_ABOVE_HIGHEST, next_free_params(policy)).scalar_one()
    held = db.session.execute(text(
        "SELECT classid::bigint, objid::bigint, objsubid, mode FROM pg_locks "
        "WHERE locktype = 'advisory' AND pid = pg_backend_pid()")).all()
    db.session.rollback()
    # The pick lock shared, and the lock of the number taken: none of the numbers after it
    assert number == 5001
    assert sorted(map(tuple, held)) == [(0, PICK_LOCK_KEY, 1, "ShareLock"),
                                        (NUMBER_LOCK_CLASS, 5001, 2, "ExclusiveLock")]
