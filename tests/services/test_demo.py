"""The demo organisation: agents and tickets in every state, made through the real services."""

from __future__ import annotations

from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tasks.runtime import runtime
from web.auth import hash_password
from web.extensions import db
from workflow.demo.activity import OUTAGE, _Unreachable, email_for
from workflow.demo.seed import seed_demo
from workflow.domain.rules import extension_problems
from workflow.domain.text import email_address
from workflow.models import (
    Agent,
    DirectoryEntry,
    Employee,
    Notification,
    Organisation,
    SipCredential,
    Ticket,
    TicketEvent,
)
from workflow.ports import PhoneSystemError


def seed(app: Flask) -> Session:
    """Run the demo seed as `agentdesk seed-demo` does; the session it used."""
    deps = runtime(app)
    session = db.session()
    seed_demo(session, hash_password("demo"), deps.phone_system, deps.provisioning)
    return session


def counts(session: Session) -> tuple[int, ...]:
    """Rows of every table the demo fills."""
    return tuple(session.scalar(select(func.count()).select_from(model)) or 0 for model in (
        Employee, Agent, Ticket, TicketEvent, Notification, SipCredential, DirectoryEntry))


def test_the_demo_starts_with_agents_that_follow_the_policy_on_the_phone_system(
    app: Flask,
) -> None:
    # When the demo is seeded
    session = seed(app)

    # Then about half of the 72 employees have an active agent, with both kinds of routing
    active = session.scalars(select(Agent).where(Agent.status == "active")).all()
    employees = session.scalar(select(func.count()).select_from(Employee))
    assert employees == 72 and 20 <= len(active) <= 28
    routings = Counter(agent.routing_type for agent in active)
    assert routings["app_web"] > routings["phone"] > 0
    assert all(agent.priority_number and agent.priority_number.startswith("+84")
               for agent in active if agent.routing_type == "phone")

    # And every extension follows the organisation's policy, each held once
    policy = session.scalars(select(Organisation)).one().policy
    extensions = [agent.extension for agent in active]
    assert len(set(extensions)) == len(extensions)
    assert all(extension_problems(policy, extension) == [] for extension in extensions)

    # And the built-in directory holds exactly these accounts, each with a password waiting
    directory = {entry.sip_username: entry.extension
                 for entry in session.scalars(select(DirectoryEntry))}
    assert directory == {agent.sip_username: agent.extension for agent in active}
    waiting = set(session.scalars(select(SipCredential.sip_username)
                                  .where(SipCredential.state == "pending")))
    assert waiting >= set(directory)


def test_the_demo_has_tickets_in_every_state_with_their_audit_trail(app: Flask) -> None:
    # When the demo is seeded
    session = seed(app)

    # Then there are tickets waiting, approved, done, rejected, cancelled and failed
    tickets = session.scalars(select(Ticket)).all()
    states = Counter(ticket.state for ticket in tickets)
    assert set(states) == {"submitted", "approved", "provisioned", "rejected", "cancelled",
                           "failed"}
    assert {ticket.kind for ticket in tickets if ticket.state == "provisioned"} == {
        "new", "change", "revoke"}

    # And each one's timeline says how it got there, a rejection with its reason
    def actions(ticket: Ticket) -> list[str]:
        return list(session.scalars(select(TicketEvent.action).where(
            TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))

    by_state = {ticket.state: ticket for ticket in tickets}
    assert actions(by_state["provisioned"]) == ["submit", "approve", "start", "complete"]
    assert actions(by_state["failed"]) == ["submit", "approve", "start", "fail"]
    assert by_state["failed"].last_error == OUTAGE
    reason = session.scalar(select(TicketEvent.comment).where(
        TicketEvent.ticket_id == by_state["rejected"].id, TicketEvent.action == "reject"))
    assert reason and reason.strip()
    assert actions(by_state["cancelled"])[-1] == "cancel"

    # And the people concerned were told (approvers of new tickets, requesters of outcomes)
    assert session.scalar(select(func.count()).select_from(Notification)) >= len(tickets)


def test_every_demo_employee_has_a_distinct_vietnamese_looking_address() -> None:
    # Given names as the demo makes them, some with the same initials
    taken: set[str] = set()
    first = email_for("Nguyễn Văn An", taken)
    second = email_for("Ngô Văn An", taken)
    third = email_for("Đặng Thị Ánh", taken)

    # Then the addresses drop the accents, number the repeats and are valid
    assert (first, second, third) == ("annv@demo.vn", "annv2@demo.vn", "anhdt@demo.vn")
    assert all(email_address(each) == each for each in (first, second, third))


def test_the_seeded_employees_have_valid_unique_emails(app: Flask) -> None:
    # When the demo is seeded
    session = seed(app)

    # Then every employee has a valid address of the demo domain, none shared
    emails = list(session.scalars(select(Employee.email)))
    assert len(emails) == 72 and len(set(emails)) == 72
    assert all(each is not None and each.endswith("@demo.vn") and email_address(each) == each
               for each in emails)


def test_seeding_the_demo_again_changes_nothing(app: Flask) -> None:
    # Given the demo, seeded once
    session = seed(app)
    before = counts(session)

    # When it is seeded again
    session = seed(app)

    # Then no row was added
    assert counts(session) == before


def test_the_demos_unreachable_phone_system_cannot_say_any_agents_last_call() -> None:
    # The phone system the demo's failed ticket met, asked for a page of last calls
    with pytest.raises(PhoneSystemError) as raised:
        _Unreachable().last_calls(["agent-1", "agent-2"])

    # Then it fails as a switchboard that cannot be reached does
    assert str(raised.value) == OUTAGE
