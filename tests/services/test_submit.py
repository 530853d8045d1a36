"""Submitting tickets: every rule refused with a field-level problem, on both databases."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.support.world import World, actor, problems_of, provision, submit
from web.extensions import db
from workflow.domain.errors import RuleViolation
from workflow.models import Agent, Notification, OutboxMessage, Ticket, TicketEvent
from workflow.people.policy import update_policy
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind


def test_a_new_ticket_is_saved_with_its_audit_event_and_notices(
    app: Flask, world: World
) -> None:
    ticket = submit(
        world, extension="5001", details="  Nhân viên mới  ", notify_user_ids=(world.admin_id,)
    )
    assert (ticket.state, ticket.extension, ticket.routing_type) == ("submitted", "5001", "app_web")
    assert ticket.details == "Nhân viên mới"
    assert [user.id for user in ticket.watchers] == [world.admin_id]
    event = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).one()
    assert (event.action, event.from_state, event.to_state) == ("submit", None, "submitted")
    assert event.changes["extension"] == [None, "5001"]
    noticed = db.session.scalars(select(Notification.user_id).where(
        Notification.event_id == event.id)).all()
    assert sorted(noticed) == sorted([world.approver_id, world.admin_id])  # approver + watcher
    # Nothing is promised to the workers before an approval.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_new_ticket_without_extension_gets_the_next_free_one(app: Flask, world: World) -> None:
    assert submit(world).extension == "5001"  # 5000 is reserved
    second = submit(world, employee_id=world.employee_ids[1])
    assert second.extension == "5002"


def test_picked_extensions_go_upwards_so_a_number_given_back_is_not_reissued_at_once(
    app: Flask, world: World
) -> None:
    first = submit(world, extension="5001")
    submit(world, employee_id=world.employee_ids[1], extension="5003")
    update_policy(db.session(), 4, "5", ["5000", "5004"], actor_id=world.admin_id)
    assert submit(world, employee_id=world.employee_ids[2]).extension == "5005"  # 5004 reserved
    decisions.cancel_ticket(db.session(), actor(world.requester_id), first.id)
    assert submit(world, employee_id=world.employee_ids[3]).extension == "5006"


def test_once_the_top_of_the_range_is_used_the_smallest_gap_is_picked(
    app: Flask, world: World
) -> None:
    update_policy(db.session(), 3, "59", ["590"], actor_id=world.admin_id)
    submit(world, extension="599")
    submit(world, employee_id=world.employee_ids[1], extension="592")
    assert submit(world, employee_id=world.employee_ids[2]).extension == "591"  # 590 reserved
    assert submit(world, employee_id=world.employee_ids[3]).extension == "593"


def test_no_free_extension_left_is_a_clear_refusal(app: Flask, world: World) -> None:
    update_policy(db.session(), 3, "59", [str(number) for number in range(590, 599)],
                  actor_id=world.admin_id)
    assert submit(world).extension == "599"
    with pytest.raises(RuleViolation) as refused:
        submit(world, employee_id=world.employee_ids[1])
    assert problems_of(refused) == {"extension": ["extension_none_free"]}


@pytest.mark.parametrize(
    ("extension", "code"),
    [
        ("0501", "extension_leading_zero"),
        ("501", "extension_length"),
        ("6001", "extension_prefix"),
        ("5000", "extension_reserved"),
        ("5a01", "extension_digits"),
    ],
)
def test_invalid_extensions_are_refused_on_the_extension_field(
    app: Flask, world: World, extension: str, code: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        submit(world, extension=extension)
    assert code in problems_of(refused)["extension"]
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_an_extension_requested_by_an_open_ticket_is_refused(app: Flask, world: World) -> None:
    first = submit(world, extension="5001")
    with pytest.raises(RuleViolation) as refused:
        submit(world, employee_id=world.employee_ids[1], extension="5001")
    assert refused.value.problems["extension"][0].params["ticket_id"] == first.id


def test_an_extension_held_by_an_agent_is_refused_with_the_holder(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    with pytest.raises(RuleViolation) as refused:
        submit(world, employee_id=world.employee_ids[1], extension="5001")
    problem = refused.value.problems["extension"][0]
    assert (problem.code, problem.params["holder"]) == ("extension_taken", "Nhân viên 0-0")


def test_one_open_ticket_per_employee(app: Flask, world: World) -> None:
    submit(world, extension="5001")
    with pytest.raises(RuleViolation) as refused:
        submit(world, extension="5002")
    assert problems_of(refused)["employee_id"] == ["employee_has_open_ticket"]


def test_new_needs_an_employee_without_an_active_agent(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    with pytest.raises(RuleViolation) as refused:
        submit(world, extension="5002")
    assert problems_of(refused)["employee_id"] == ["employee_has_agent"]


@pytest.mark.parametrize("kind", [TicketKind.CHANGE, TicketKind.REVOKE])
def test_change_and_revoke_need_an_active_agent(app: Flask, world: World, kind: TicketKind) -> None:
    with pytest.raises(RuleViolation) as refused:
        submit(world, kind=kind, extension="5003")
    assert problems_of(refused)["employee_id"] == ["employee_has_no_agent"]


def test_a_change_must_change_something(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    with pytest.raises(RuleViolation) as refused:
        submit(world, kind=TicketKind.CHANGE, extension="5001", routing_type="app_web")
    assert problems_of(refused)["extension"] == ["nothing_to_change"]


def test_unknown_employee_and_watchers_are_refused(app: Flask, world: World) -> None:
    with pytest.raises(RuleViolation) as refused:
        submit(world, employee_id=999_999)
    assert problems_of(refused) == {"employee_id": ["employee_unknown"]}
    with pytest.raises(RuleViolation) as refused:
        submit(world, notify_user_ids=(999_999,))
    assert problems_of(refused) == {"notify_user_ids": ["unknown_user"]}


def test_the_same_idempotency_key_creates_one_ticket(app: Flask, world: World) -> None:
    first = submit(world, extension="5001", idempotency_key="form-123")
    again = submit(world, extension="5001", idempotency_key="form-123")
    assert again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_change_then_revoke_reshape_the_same_agent(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    agent = db.session.scalars(select(Agent)).one()
    sip_username = agent.sip_username
    change = submit(
        world,
        kind=TicketKind.CHANGE,
        extension="5656",
        routing_type="phone",
        priority_number="0912345678",
        backup_number="0987654321",
    )
    assert change.agent_id == agent.id
    provision(app, world, change)
    agent = db.session.get(Agent, agent.id)
    assert (agent.extension, agent.sip_username, agent.routing_type, agent.backup_number) == (
        "5656",
        sip_username,
        "phone",
        "+84987654321",
    )
    # The old number is free again for someone else.
    other = submit(world, employee_id=world.employee_ids[1], extension="5001")
    assert other.extension == "5001"
    revoke = submit(world, kind=TicketKind.REVOKE)
    provision(app, world, revoke)
    assert db.session.get(Agent, agent.id).status == "revoked"
    assert submit(world, employee_id=world.employee_ids[2], extension="5656").state == "submitted"
