"""An employee moving to another branch takes their open tickets, and who decides them, along."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.api import ApiClient
from tests.support.apps import drain
from tests.support.pages import csrf_token, signed_in_as, upload
from tests.support.world import World, actor, provision, submit
from web.extensions import db
from workflow.models import Employee, Notification, Ticket, TicketEvent
from workflow.people.structure import save_employee
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind

#: What the timeline shows of the move from the world's first branch to its second.
MOVE_LINE = ('<th scope="row">Chi nhánh</th><td>Hà Nội</td><td>Đà Nẵng</td>')


def closed_and_open_ticket(app: Flask, world: World) -> tuple[int, int]:
    """The first employee's provisioned account (closed ticket) and a waiting change."""
    first = submit(world, extension="5001")
    provision(app, world, first)
    change = submit(world, kind=TicketKind.CHANGE, extension="5009")
    return first.id, change.id


def branch_of(ticket_id: int) -> int:
    """The branch a ticket is decided in now."""
    db.session.expire_all()
    return db.session.get_one(Ticket, ticket_id).branch_id


def assert_followed(app: Flask, world: World, api: Callable[[str], ApiClient],
                    closed_id: int, open_id: int) -> None:
    """The open ticket is the second branch's now; the closed one stays where it was."""
    assert branch_of(open_id) == world.branch_ids[1]
    assert branch_of(closed_id) == world.branch_ids[0]
    # The old branch's approver neither finds it in their queue nor may decide it
    old = api("approver")
    waiting = old.get("/api/v1/tickets?state=submitted").json["items"]
    assert open_id not in [ticket["id"] for ticket in waiting]
    assert f"/tickets/{open_id}" not in signed_in_as(app, world, "approver").get(
        "/approvals").get_data(as_text=True)
    refused = old.post(f"/api/v1/tickets/{open_id}/approve")
    assert refused.status_code == 403, refused.json
    # The new branch's approver was told once, and finds it waiting for them
    move = db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == open_id, TicketEvent.action == "move_branch")).one()
    told = db.session.scalars(select(Notification.user_id).where(
        Notification.event_id == move.id)).all()
    assert told == [world.other_approver_id]
    new_browser = signed_in_as(app, world, "other_approver")
    assert f"/tickets/{open_id}" in new_browser.get("/approvals").get_data(as_text=True)
    # And the timeline says who moved it, from which branch to which
    timeline = new_browser.get(f"/tickets/{open_id}").get_data(as_text=True)
    assert "Chuyển sang chi nhánh khác theo nhân viên" in timeline and "Quản Trị" in timeline
    assert MOVE_LINE in timeline
    # And the new branch's approver decides it
    approved = api("other_approver").post(f"/api/v1/tickets/{open_id}/approve")
    assert approved.status_code == 200 and approved.json["state"] == "approved"


def admin_browser(app: Flask, world: World) -> FlaskClient:
    """A browser signed in as the admin."""
    return signed_in_as(app, world, "admin")


def test_moving_an_employee_on_the_edit_page_moves_their_open_ticket(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    closed_id, open_id = closed_and_open_ticket(app, world)
    admin = admin_browser(app, world)
    edit = f"/admin/employees/{world.employee_ids[0]}"
    saved = admin.post(edit, data={
        "department_id": str(world.department_ids[2]), "full_name": "Nhân viên 0-0",
        "employee_code": "", "email": "", "active": "y", "job_role_id": "",
        "csrf_token": csrf_token(admin, edit)})
    assert saved.status_code == 302
    assert_followed(app, world, api, closed_id, open_id)


def test_moving_employees_by_import_moves_their_open_tickets(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    closed_id, open_id = closed_and_open_ticket(app, world)
    staying = submit(world, employee_id=world.employee_ids[1], extension="5002")
    for code, employee_id in (("NV-0", world.employee_ids[0]), ("NV-1", world.employee_ids[1])):
        db.session.get_one(Employee, employee_id).employee_code = code
    db.session.commit()
    admin = admin_browser(app, world)
    upload(admin, "Chi nhánh,Phòng ban,Họ tên,Mã nhân viên\n"
                  "Đà Nẵng,Kinh doanh,Nhân viên 0-0,NV-0\n"
                  "Hà Nội,Kỹ thuật,Nhân viên 0-1,NV-1\n", button="apply")
    db.session.expire_all()
    assert db.session.get_one(Employee, world.employee_ids[0]).department_id == \
        world.department_ids[2]
    assert_followed(app, world, api, closed_id, open_id)
    # A move within the branch changes nothing about who decides
    assert branch_of(staying.id) == world.branch_ids[0]
    assert not db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == staying.id, TicketEvent.action == "move_branch")).all()


def test_moving_a_department_to_another_branch_moves_its_staffs_open_tickets(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    closed_id, open_id = closed_and_open_ticket(app, world)
    admin = admin_browser(app, world)
    edit = f"/admin/departments/{world.department_ids[0]}"
    saved = admin.post(edit, data={
        "branch_id": str(world.branch_ids[1]), "name": "Kinh doanh", "active": "y",
        "csrf_token": csrf_token(admin, edit)})
    assert saved.status_code == 302
    assert_followed(app, world, api, closed_id, open_id)


def test_an_approved_ticket_moves_without_a_notice_and_is_still_provisioned(
    app: Flask, world: World
) -> None:
    # Given a ticket approved in the first branch, its provisioning not yet run
    ticket = submit(world, extension="5001")
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    # When its employee moves to the second branch
    save_employee(db.session, world.employee_ids[0], world.department_ids[3], "Nhân viên 0-0",
                  actor_id=world.admin_id)
    # Then it moves, nobody is asked to decide it again, and the workers still finish it
    assert branch_of(ticket.id) == world.branch_ids[1]
    move = db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "move_branch")).one()
    assert (move.from_state, move.to_state, move.actor_id) == (None, "approved", world.admin_id)
    assert not db.session.scalars(select(Notification).where(
        Notification.event_id == move.id)).all()
    drain(app)
    db.session.expire_all()
    assert db.session.get_one(Ticket, ticket.id).state == "provisioned"
