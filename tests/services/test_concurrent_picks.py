"""Automatic extension picks racing on PostgreSQL each get their own number."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from tests.support.world import make_world
from web.extensions import db
from workflow.models import User
from workflow.people.accounts import actor_of
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
