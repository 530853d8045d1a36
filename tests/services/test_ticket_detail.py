"""What a ticket's page shows beside the ticket comes from the ticket read model."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.support.world import World, actor, provision, submit
from web.extensions import db
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.domain.machine import INITIAL_STATE
from workflow.models import Agent, TicketEvent
from workflow.tickets.queries import get_ticket_detail
from workflow.tickets.submission import TicketKind


def test_a_new_ticket_names_its_branch_and_no_agent_yet(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    detail = get_ticket_detail(db.session, actor(world.requester_id), ticket.id)
    assert (detail.ticket.id, detail.agent) == (ticket.id, None)
    assert detail.branch is not None and detail.branch.id == world.branch_ids[0]


def test_a_revoke_names_the_agent_it_acts_on(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    agent = db.session.scalars(select(Agent).where(Agent.extension == "5001")).one()
    revoke = submit(world, kind=TicketKind.REVOKE)
    detail = get_ticket_detail(db.session, actor(world.approver_id), revoke.id)
    assert detail.agent is not None and detail.agent.id == agent.id


def test_a_ticket_out_of_the_callers_scope_is_not_found(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    with pytest.raises(NotFound) as missing:
        get_ticket_detail(db.session, actor(world.other_approver_id), ticket.id)
    assert missing.value.code == ErrorCode.TICKET_NOT_FOUND


def test_a_ticket_starts_in_the_initial_state_with_its_submit_event(
    app: Flask, world: World
) -> None:
    ticket = submit(world, extension="5001")
    event = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).one()
    assert ticket.state == INITIAL_STATE
    assert (event.from_state, event.to_state) == (None, INITIAL_STATE)
