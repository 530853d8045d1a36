"""Taking over a ticket whose provisioning lease ran out is a retake in its timeline."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tasks.runtime import runtime
from tests.support.pages import csrf_token, sign_in
from tests.support.world import World, actor, failed_ticket, submit
from web.extensions import db
from workflow.models import Ticket, TicketEvent
from workflow.tickets import decisions
from workflow.tickets.claims import claim_approved, record_starts
from workflow.tickets.provisioning import Outcome, provision_ticket


def timeline(ticket_id: int) -> list[tuple[str, int | None, str | None, str, dict[str, Any]]]:
    """(action, who, from, to, changes) of each event of the ticket, oldest first."""
    db.session.expire_all()
    events = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                .order_by(TicketEvent.id))
    return [(event.action, event.actor_id, event.from_state, event.to_state, event.changes)
            for event in events]


def abandoned_by_a_dead_worker(app: Flask, world: World) -> int:
    """An approved ticket that a worker claimed and then died holding, past its lease now."""
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    with Session(db.engine) as dead_worker:
        [claim] = claim_approved(dead_worker, 1, -runtime(app).provisioning.lease)
        record_starts(dead_worker, [claim])
        dead_worker.commit()
    return ticket.id


def test_a_lease_takeover_leaves_a_retake_in_the_timeline(app: Flask, world: World) -> None:
    # Given a ticket whose worker died after claiming it, and whose lease ran out
    ticket_id = abandoned_by_a_dead_worker(app, world)

    # When another worker handles the sweeper's message for it
    deps = runtime(app)
    outcome = provision_ticket(db.session(), ticket_id, deps.phone_system, deps.provisioning)

    # Then it took the ticket over for a second attempt, through the table, by the system
    assert outcome == Outcome.PROVISIONED
    assert [event[:4] for event in timeline(ticket_id)] == [
        ("submit", world.requester_id, None, "submitted"),
        ("approve", world.approver_id, "submitted", "approved"),
        ("start", None, "approved", "provisioning"),
        ("retake", None, "provisioning", "provisioning"),
        ("complete", None, "provisioning", "provisioned"),
    ]
    assert timeline(ticket_id)[3][4] == {"attempt": 2}
    assert db.session.get_one(Ticket, ticket_id).attempts == 2


def test_a_live_lease_is_not_taken_over_and_writes_nothing(app: Flask, world: World) -> None:
    # Given a ticket a live worker holds
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    deps = runtime(app)
    with Session(db.engine) as worker:
        [claim] = claim_approved(worker, 1, deps.provisioning.lease)
        record_starts(worker, [claim])
        worker.commit()

    # When a redelivered message for it is handled
    outcome = provision_ticket(db.session(), ticket.id, deps.phone_system, deps.provisioning)

    # Then nothing is retaken
    assert outcome == Outcome.SKIPPED
    assert [event[0] for event in timeline(ticket.id)] == ["submit", "approve", "start"]


def test_each_attempt_after_a_failed_one_is_a_retake_with_its_number(
    app: Flask, world: World
) -> None:
    ticket = failed_ticket(app, world)
    attempts = runtime(app).provisioning.max_attempts
    events = timeline(ticket.id)
    assert [event[0] for event in events] == [
        "submit", "approve", "start", *["retake"] * (attempts - 1), "fail"]
    assert [event[4] for event in events if event[0] == "retake"] == [
        {"attempt": number} for number in range(2, attempts + 1)]


def test_the_ticket_page_names_the_retake_and_its_attempt_in_both_languages(
    app: Flask, world: World
) -> None:
    ticket_id = abandoned_by_a_dead_worker(app, world)
    deps = runtime(app)
    provision_ticket(db.session(), ticket_id, deps.phone_system, deps.provisioning)
    browser = app.test_client()
    sign_in(browser, world.emails["requester"])

    page = browser.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Nhận lại để cấu hình tiếp" in page and "lần thử 2" in page

    browser.post("/language", data={"language": "en", "next": f"/tickets/{ticket_id}",
                                    "csrf_token": csrf_token(browser, f"/tickets/{ticket_id}")})
    page = browser.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Taken over for another attempt" in page and "attempt 2" in page
