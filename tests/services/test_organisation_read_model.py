"""What the structure pages read: one branch, department or employee, and names for pickers."""

from __future__ import annotations

from flask import Flask

from tests.support.world import World, actor, submit
from web.extensions import db
from workflow.models import Branch, Department, Employee
from workflow.people import queries as organisation
from workflow.tickets import queries


def test_a_new_or_missing_unit_is_none_and_an_existing_one_is_found(
    app: Flask, world: World
) -> None:
    assert organisation.find_branch(db.session, None) is None
    assert organisation.find_branch(db.session, 999) is None
    assert organisation.find_department(db.session, None) is None
    assert organisation.find_department(db.session, 999) is None
    assert organisation.find_employee(db.session, None) is None
    assert organisation.find_employee(db.session, 999) is None

    branch = organisation.find_branch(db.session, world.branch_ids[1])
    department = organisation.find_department(db.session, world.department_ids[2])
    employee = organisation.find_employee(db.session, world.employee_ids[0])

    assert isinstance(branch, Branch) and branch.name == "Đà Nẵng"
    assert isinstance(department, Department) and department.branch_id == branch.id
    assert isinstance(employee, Employee) and employee.full_name == "Nhân viên 0-0"


def test_departments_are_named_with_their_branch_in_dictionary_order_inactive_included(
    app: Flask, world: World
) -> None:
    db.session.get(Department, world.department_ids[3]).active = False
    db.session.commit()

    names = organisation.department_names(db.session)

    assert list(names.values()) == ["Đà Nẵng — Kinh doanh", "Đà Nẵng — Kỹ thuật",
                                    "Hà Nội — Kinh doanh", "Hà Nội — Kỹ thuật"]
    assert names[world.department_ids[0]] == "Hà Nội — Kinh doanh"
    assert names[world.department_ids[3]] == "Đà Nẵng — Kỹ thuật"


def test_branches_are_named_in_dictionary_order_inactive_included(
    app: Flask, world: World
) -> None:
    db.session.get(Branch, world.branch_ids[0]).active = False
    db.session.commit()

    assert organisation.branch_names(db.session) == {
        world.branch_ids[1]: "Đà Nẵng", world.branch_ids[0]: "Hà Nội"}
    assert list(organisation.branch_names(db.session)) == world.branch_ids[::-1]


def test_exported_tickets_are_those_of_the_filter_with_their_people_loaded(
    app: Flask, world: World
) -> None:
    first = submit(world, employee_id=world.employee_ids[0])
    second = submit(world, employee_id=world.employee_ids[8])
    everything = queries.TicketFilter()
    in_da_nang = queries.TicketFilter(branch_id=world.branch_ids[1])
    requester, approver = actor(world.requester_id), actor(world.approver_id)

    rows = list(queries.ticket_rows(db.session, requester, everything, chunk=1))

    assert [row.id for row in rows] == [second.id, first.id]
    assert [row.employee.full_name for row in rows] == ["Nhân viên 2-0", "Nhân viên 0-0"]
    assert {row.requester.full_name for row in rows} == {"Người Yêu Cầu"}
    assert [row.id for row in queries.ticket_rows(db.session, requester, in_da_nang)] == [
        second.id]
    # An approver of Hà Nội sees only the tickets of that branch.
    assert [row.id for row in queries.ticket_rows(db.session, approver, everything)] == [
        first.id]
