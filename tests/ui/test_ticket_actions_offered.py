"""The ticket page and the approval queue offer exactly the actions the rules allow."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tasks.runtime import runtime
from tests.support.apps import drain
from tests.support.pages import page_of, sign_in
from tests.support.world import World, actor, failed_ticket, submit
from web.extensions import db
from workflow.models import Ticket
from workflow.tickets import decisions
from workflow.tickets.claims import claim_approved, record_starts

#: The forms of the ticket page, by the action they post to.
ACTION_FORM = re.compile(r'action="/tickets/(\d+)/(approve|reject|cancel|retry)"')


@pytest.fixture
def browsers(app: Flask, world: World) -> dict[str, FlaskClient]:
    """One signed-in browser per role of the world."""
    clients = {}
    for role in ("requester", "approver", "other_approver", "admin"):
        clients[role] = app.test_client()
        sign_in(clients[role], world.emails[role])
    return clients


def tickets_in_every_state(app: Flask, world: World) -> list[Ticket]:
    """One ticket of the world's requester in each state a ticket can be in."""
    failed = failed_ticket(app, world)  # first: it runs the workers, which take approved ones
    provisioned = submit(world, employee_id=world.employee_ids[1], extension="5002")
    decisions.approve_ticket(db.session, actor(world.approver_id), provisioned.id)
    drain(app)
    rejected = submit(world, employee_id=world.employee_ids[2], extension="5003")
    decisions.reject_ticket(db.session, actor(world.approver_id), rejected.id, "Sai số")
    cancelled = submit(world, employee_id=world.employee_ids[3], extension="5004")
    decisions.cancel_ticket(db.session, actor(world.requester_id), cancelled.id)
    provisioning = submit(world, employee_id=world.employee_ids[4], extension="5005")
    decisions.approve_ticket(db.session, actor(world.approver_id), provisioning.id)
    with Session(db.engine) as worker:  # a worker holds it under a live lease
        [claim] = claim_approved(worker, 1, runtime(app).provisioning.lease)
        record_starts(worker, [claim])
        worker.commit()
    approved = submit(world, employee_id=world.employee_ids[5], extension="5006")
    decisions.approve_ticket(db.session, actor(world.approver_id), approved.id)
    submitted = submit(world, employee_id=world.employee_ids[6], extension="5007")
    db.session.expire_all()
    tickets = [db.session.get_one(Ticket, each.id) for each in (
        failed, provisioned, rejected, cancelled, provisioning, approved, submitted)]
    assert [ticket.state for ticket in tickets] == [
        "failed", "provisioned", "rejected", "cancelled", "provisioning", "approved", "submitted"]
    return tickets


def test_the_ticket_page_offers_exactly_the_allowed_actions(
    app: Flask, browsers: dict[str, FlaskClient], world: World
) -> None:
    tickets = tickets_in_every_state(app, world)
    user_ids = {"requester": world.requester_id, "approver": world.approver_id,
                "other_approver": world.other_approver_id, "admin": world.admin_id}
    offered_anywhere = set()
    for viewer, client in browsers.items():
        for ticket in tickets:
            allowed = {action.value for action in
                       decisions.actions_on(ticket, actor(user_ids[viewer]))}
            response = client.get(f"/tickets/{ticket.id}")
            if response.status_code == 404:  # a ticket outside what the viewer may see
                assert not allowed, (viewer, ticket.state)
                continue
            page = response.get_data(as_text=True)
            offered = {action for number, action in ACTION_FORM.findall(page)
                       if int(number) == ticket.id}
            assert offered == allowed, (viewer, ticket.state)
            offered_anywhere |= offered
    # Every action a person takes was offered to someone, so the comparison above means it.
    assert offered_anywhere == {"approve", "reject", "cancel", "retry"}


def test_the_queue_offers_a_decision_on_each_ticket_its_viewer_may_decide(
    browsers: dict[str, FlaskClient], world: World
) -> None:
    ticket = submit(world, extension="5001")
    queue = page_of(browsers["approver"], "/approvals")
    assert f'id="pick-{ticket.id}"' in queue
    assert 'name="approve"' in queue and 'name="reject"' in queue
