"""Provisioning in batches for the in-database directory; one ticket at a time for the others."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tasks.relay import relay_once
from tasks.runtime import runtime
from tests.support.apps import drain
from tests.support.statements import sent_statements
from tests.support.world import World, actor, make_world, submit
from web.extensions import db
from workflow.models import (
    Agent,
    DirectoryEntry,
    DirectoryWrite,
    Notification,
    OutboxMessage,
    Ticket,
    TicketEvent,
)
from workflow.ports import PhoneAccount
from workflow.tickets import decisions
from workflow.tickets.claims import claim_approved, claim_ticket, record_starts
from workflow.tickets.provisioning import Outcome, provision_ticket


def approved_tickets(world: World, count: int) -> list[int]:
    """Submit and approve `count` new-account tickets, one employee and extension each."""
    ids = []
    for number in range(count):
        ticket = submit(world, employee_id=world.employee_ids[number],
                        extension=f"50{number + 1:02d}")
        decisions.approve_ticket(db.session, actor(world.admin_id), ticket.id)
        ids.append(ticket.id)
    return ids


def provision(app: Flask, ticket_id: int, **settings: object) -> Outcome:
    """Run the provisioning of one message in-process, as the actor does."""
    deps = runtime(app)
    chosen = dataclasses.replace(deps.provisioning, **settings)  # type: ignore[arg-type]
    return provision_ticket(db.session(), ticket_id, deps.phone_system, chosen)


def states(ticket_ids: list[int]) -> list[str]:
    """The state of each ticket, in order."""
    db.session.expire_all()
    return [db.session.get_one(Ticket, ticket_id).state for ticket_id in ticket_ids]


def count(model: type, *where: object) -> int:
    """How many rows of `model` match."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_one_message_provisions_the_waiting_tickets_and_their_messages_find_nothing(
    app: Flask, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # Given three approved tickets whose messages wait in the broker
    ids = approved_tickets(world, 3)

    # When the first message is handled
    with caplog.at_level(logging.INFO, logger="workflow.tickets.provisioning"):
        assert provision(app, ids[0]) == Outcome.PROVISIONED

    # Then all three are provisioned together, each written once to the directory
    assert f"tickets {ids} provisioned together" in caplog.messages
    assert states(ids) == ["provisioned"] * 3
    assert count(DirectoryWrite) == 3 and count(Agent, Agent.status == "active") == 3
    # And every approval's outbox row is marked done, so the relay re-sends nothing
    assert count(OutboxMessage, OutboxMessage.processed_at.is_(None)) == 0
    # And each ticket has its own start then complete, and a completion notice
    for ticket_id in ids:
        trail = db.session.execute(
            select(TicketEvent.action, TicketEvent.to_state)
            .where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        ).all()
        assert [tuple(row) for row in trail] == [
            ("submit", "submitted"), ("approve", "approved"), ("start", "provisioning"),
            ("complete", "provisioned"),
        ]
        ticket = db.session.get_one(Ticket, ticket_id)
        assert (ticket.version, ticket.attempts, ticket.lease_until) == (4, 1, None)
        assert ticket.agent_id is not None
        noticed = db.session.scalars(
            select(Notification.user_id).join(TicketEvent, Notification.event_id == TicketEvent.id)
            .where(Notification.ticket_id == ticket_id, TicketEvent.action == "complete")
        ).all()
        assert noticed == [world.requester_id]
    # And the other messages, and any redelivery, are skipped without effect
    assert [provision(app, ticket_id) for ticket_id in ids] == [Outcome.SKIPPED] * 3
    drain(app)
    assert count(DirectoryWrite) == 3 and count(TicketEvent, TicketEvent.action == "start") == 3


def test_a_message_takes_at_most_a_batch_of_tickets(app: Flask, world: World) -> None:
    # Given four approved tickets and batches of two
    ids = approved_tickets(world, 4)

    # When the last ticket's message is handled
    assert provision(app, ids[3], batch=2) == Outcome.PROVISIONED

    # Then it takes its own ticket and the oldest waiting one, and leaves the rest
    assert states(ids) == ["provisioned", "approved", "approved", "provisioned"]
    assert count(OutboxMessage, OutboxMessage.processed_at.is_(None)) == 2


def test_a_ticket_that_cannot_be_applied_fails_alone(app: Flask, world: World) -> None:
    # Given three approved tickets, the second asking for an extension the directory has
    ids = approved_tickets(world, 3)
    db.session.add(DirectoryEntry(sip_username="someone-else", extension="5002",
                                  routing_type="app_web", secret_digest="x" * 64))
    db.session.commit()

    # When one message takes all three
    assert provision(app, ids[0]) == Outcome.PROVISIONED

    # Then the other two are provisioned and the bad one waits to be retried
    assert states(ids) == ["provisioned", "provisioning", "provisioned"]
    bad = db.session.get_one(Ticket, ids[1])
    assert bad.attempts == 1 and bad.last_error is not None and bad.lease_until is not None
    assert count(Agent) == 2 and count(DirectoryWrite) == 2
    # And its trail shows the start but no completion
    actions = db.session.scalars(select(TicketEvent.action).where(
        TicketEvent.ticket_id == ids[1]).order_by(TicketEvent.id)).all()
    assert actions == ["submit", "approve", "start"]


class RecordingSwitchboard:
    """An external phone system that keeps the accounts it was asked for in memory."""

    def __init__(self) -> None:
        self.accounts: dict[str, PhoneAccount] = {}

    def ensure_account(self, account: PhoneAccount, ticket_id: int) -> bool:
        self.accounts[account.sip_username] = account
        return True

    def ensure_accounts(self, accounts: Sequence[tuple[PhoneAccount, int]]) -> int:
        return sum(self.ensure_account(account, ticket_id) for account, ticket_id in accounts)

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        return self.accounts.pop(sip_username, None) is not None


def test_an_external_phone_system_gets_one_ticket_per_message(app: Flask, world: World) -> None:
    # Given two approved tickets and a switchboard outside the database
    ids = approved_tickets(world, 2)
    switchboard = RecordingSwitchboard()
    # provisioned as the composition root sets up a switchboard outside the database
    settings = dataclasses.replace(runtime(app).provisioning, batch=1)

    # When the first message is handled
    outcome = provision_ticket(db.session(), ids[0], lambda session: switchboard, settings)

    # Then only its ticket is applied; the other waits for its own message
    assert outcome == Outcome.PROVISIONED
    assert states(ids) == ["provisioned", "approved"]
    assert len(switchboard.accounts) == 1
    assert provision_ticket(db.session(), ids[1], lambda session: switchboard,
                            settings) == Outcome.PROVISIONED
    assert len(switchboard.accounts) == 2


def test_concurrent_batch_claims_skip_each_others_tickets(pg_only_app: Flask) -> None:
    # Given six approved tickets
    world = make_world()
    ids = approved_tickets(world, 6)
    lease = runtime(current_app).provisioning.lease
    with Session(db.engine) as first, Session(db.engine) as second:
        # When one worker holds a batch (not committed yet) and another claims meanwhile
        held = claim_approved(first, 4, lease)
        taken = claim_approved(second, 4, lease)
        first.commit()
        second.commit()

    # Then they share the tickets without overlap, oldest first
    assert sorted(claim.id for claim in held) == ids[:4]
    assert sorted(claim.id for claim in taken) == ids[4:]


def test_a_batch_completes_in_one_statement_with_its_events_and_notices(
    pg_only_app: Flask
) -> None:
    # Given three approved tickets, one of them watched by the admin
    world = make_world()
    ids = approved_tickets(world, 2)
    watched = submit(world, employee_id=world.employee_ids[2], extension="5003",
                     notify_user_ids=(world.admin_id,))
    decisions.approve_ticket(db.session, actor(world.approver_id), watched.id)
    ids.append(watched.id)
    db.session.commit()

    # When one message provisions them together
    with sent_statements() as statements:
        assert provision(pg_only_app, ids[0]) == Outcome.PROVISIONED

    # Then one statement moves them all, writes their events and their notices
    completing = [each for each in statements if "INSERT INTO notification" in each]
    assert len(completing) == 1
    assert "UPDATE ticket SET" in completing[0] and "INSERT INTO ticket_event" in completing[0]
    assert states(ids) == ["provisioned"] * 3
    completes = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.actor_id, TicketEvent.from_state,
               TicketEvent.changes)
        .where(TicketEvent.action == "complete").order_by(TicketEvent.ticket_id)).all()
    agents = {ticket_id: db.session.get_one(Ticket, ticket_id).agent_id for ticket_id in ids}
    assert [(row.ticket_id, row.actor_id, row.from_state, row.changes["agent_id"])
            for row in completes] == [(ticket_id, None, "provisioning", agents[ticket_id])
                                      for ticket_id in ids]
    noticed = db.session.execute(
        select(Notification.ticket_id, Notification.user_id)
        .join(TicketEvent, Notification.event_id == TicketEvent.id)
        .where(TicketEvent.action == "complete")).all()
    assert sorted(map(tuple, noticed)) == sorted(
        [(ticket_id, world.requester_id) for ticket_id in ids] + [(watched.id, world.admin_id)])
    # And the watcher's notice of the approval is retired by that of the completion
    approval_notice = db.session.execute(
        select(Notification.superseded_at)
        .join(TicketEvent, Notification.event_id == TicketEvent.id)
        .where(TicketEvent.action == "approve", Notification.user_id == world.admin_id)
    ).scalar_one()
    assert approval_notice is not None


def test_racing_messages_provision_every_ticket_exactly_once(pg_only_app: Flask) -> None:
    # Given twelve approved tickets, and small batches so that the messages overlap
    world = make_world()
    ids = approved_tickets(world, 12)
    start = threading.Barrier(len(ids))

    def handle(ticket_id: int) -> Outcome:
        with pg_only_app.app_context():
            start.wait()
            return provision(pg_only_app, ticket_id, batch=3)

    # When every ticket's message is handled at the same moment
    with ThreadPoolExecutor(len(ids)) as pool:
        outcomes = list(pool.map(handle, ids))

    # Then every ticket is provisioned once, whichever message did it
    assert states(ids) == ["provisioned"] * len(ids)
    assert Outcome.PROVISIONED in outcomes
    assert set(outcomes) <= {Outcome.PROVISIONED, Outcome.SKIPPED}
    assert count(DirectoryWrite) == len(ids) and count(Agent) == len(ids)
    for action in ("start", "complete"):
        per_ticket = db.session.execute(
            select(TicketEvent.ticket_id, func.count()).where(TicketEvent.action == action)
            .group_by(TicketEvent.ticket_id)
        ).all()
        assert sorted(per_ticket) == [(ticket_id, 1) for ticket_id in ids]
    assert count(OutboxMessage, OutboxMessage.processed_at.is_(None)) == 0


def test_a_message_skips_a_ticket_being_claimed_and_the_outbox_keeps_the_promise(
    pg_only_app: Flask,
) -> None:
    # Given an approved ticket that another worker is claiming (not committed yet)
    world = make_world()
    [ticket_id] = approved_tickets(world, 1)
    lease = runtime(current_app).provisioning.lease
    with Session(db.engine) as other, Session(db.engine) as ours:
        assert [claim.id for claim in claim_approved(other, 1, lease)] == [ticket_id]

        # When its message is handled meanwhile, it does not wait for that worker
        ours.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail rather than hang
        assert claim_ticket(ours, ticket_id, lease) is None
        ours.rollback()

        # And when the other worker dies before committing
        other.rollback()

    # Then the approval's outbox row is still pending, so the relay sends it again
    assert count(OutboxMessage, OutboxMessage.processed_at.is_(None)) == 1
    assert relay_once(runtime(pg_only_app)) == 1
    drain(pg_only_app)
    assert states([ticket_id]) == ["provisioned"]


@pytest.mark.parametrize("expired", [True, False])
def test_a_ticket_past_its_lease_is_taken_over_with_the_batch(
    app: Flask, world: World, expired: bool
) -> None:
    # Given a ticket claimed by a worker that died, and another approved ticket
    ids = approved_tickets(world, 2)
    lease = runtime(current_app).provisioning.lease
    with Session(db.engine) as dead_worker:
        [claim] = claim_approved(dead_worker, 1, -lease if expired else lease)
        record_starts(dead_worker, [claim])
        dead_worker.commit()
    assert claim.id == ids[0]

    # When the sweeper's message for it is handled
    outcome = provision(app, ids[0])

    # Then an expired lease is taken over along with the waiting ticket; a live one is left
    if expired:
        assert outcome == Outcome.PROVISIONED
        assert states(ids) == ["provisioned", "provisioned"]
        assert db.session.get_one(Ticket, ids[0]).attempts == 2
    else:
        assert outcome == Outcome.SKIPPED
        assert states(ids) == ["provisioning", "approved"]
    assert count(TicketEvent, TicketEvent.action == "start") == (2 if expired else 1)
