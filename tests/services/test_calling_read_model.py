"""What the calling pages read: filtered, counted and named by the calling read model."""

from __future__ import annotations

from datetime import date, time

import pytest
from flask import Flask

from tests.support.world import World
from web.extensions import db
from workflow.calling import admin, calendar
from workflow.calling import queries as calling
from workflow.calling.admin import ProfileInput
from workflow.domain.calling_rules import Level, is_assigned
from workflow.domain.errors import NotFound
from workflow.models import Agent, Employee


def agent(world: World, index: int, extension: str, status: str = "active") -> Agent:
    """An agent of the world's employee `index` with this extension and status."""
    row = Agent(employee_id=world.employee_ids[index], extension=extension,
                sip_username=f"sip{extension}{status}", status=status)
    db.session.add(row)
    db.session.commit()
    return row


def test_only_an_active_agent_answers_to_its_extension(app: Flask, world: World) -> None:
    agent(world, 0, "5001", status="revoked")
    active = agent(world, 1, "5002")

    assert calling.active_agent_id(db.session, "5001") is None
    assert calling.active_agent_id(db.session, "5002") == active.id
    assert calling.active_agent_id(db.session, "5999") is None
    assert calling.active_sip_username(db.session, "5001") is None
    assert calling.active_sip_username(db.session, "5002") == active.sip_username


def test_agents_named_by_a_refusal_are_the_active_ones_by_extension(
    app: Flask, world: World
) -> None:
    agent(world, 0, "5003")
    agent(world, 1, "5001")
    agent(world, 2, "5002", status="revoked")
    names = {employee.id: employee.full_name for employee in db.session.query(Employee)}

    found = calling.active_agents_with(db.session, ["5003", "5002", "5001", "5001"])

    assert [(each.extension, each.full_name) for each in found] == [
        ("5001", names[world.employee_ids[1]]), ("5003", names[world.employee_ids[0]])]
    assert calling.active_agents_with(db.session, []) == []


def test_job_roles_count_only_the_active_employees_holding_them(
    app: Flask, world: World
) -> None:
    sales = admin.save_job_role(db.session, world.admin_id, "Telesales").id
    care = admin.save_job_role(db.session, world.admin_id, "Chăm sóc khách hàng").id
    admin.save_job_role(db.session, world.admin_id, "Kế toán")
    for employee_id in world.employee_ids[:3]:
        admin.set_job_role(db.session, world.admin_id, employee_id, sales)
    admin.set_job_role(db.session, world.admin_id, world.employee_ids[3], care)
    db.session.get(Employee, world.employee_ids[2]).active = False
    db.session.commit()

    assert calling.employees_per_job_role(db.session) == {sales: 2, care: 1}


def test_each_hotline_names_the_profiles_presenting_it_in_dictionary_order(
    app: Flask, world: World
) -> None:
    main = admin.save_hotline(db.session, world.admin_id, "+842471001000", "Tổng đài").id
    sales = admin.save_hotline(db.session, world.admin_id, "+842471002000", "Kinh doanh").id
    spare = admin.save_hotline(db.session, world.admin_id, "+842471003000").id
    for name, lines in (("Zalo", (main,)), ("Đào tạo", (main, sales)), ("Kinh doanh", (sales,))):
        admin.save_profile(db.session, world.admin_id, ProfileInput(
            name=name, outgoing=True, classes=("internal", "mobile"), hotline_ids=lines,
            default_hotline_id=lines[0]))

    used_by = calling.profiles_by_hotline(db.session)

    assert dict(used_by) == {main: ["Đào tạo", "Zalo"], sales: ["Đào tạo", "Kinh doanh"]}
    assert used_by[spare] == []
    assert [line.number for line in calling.hotlines_by_number(db.session)] == [
        "+842471001000", "+842471002000", "+842471003000"]
    assert calling.hotline_labels(db.session) == {
        "+842471001000": "Tổng đài", "+842471002000": "Kinh doanh", "+842471003000": ""}


def test_listed_assignments_tell_where_a_profile_is_assigned(app: Flask, world: World) -> None:
    profile = admin.save_profile(db.session, world.admin_id, ProfileInput(
        name="Nội bộ", classes=("internal",))).id
    admin.assign_profile(db.session, world.admin_id, Level.BRANCH, world.branch_ids[0], profile)

    listed = calling.listed_assignments(db.session)

    # make_world leaves the default profile assigned to the whole organisation.
    assert [(assigned.level, target) for target, assigned in listed] == [
        (Level.ORGANISATION, None), (Level.BRANCH, world.branch_ids[0])]
    assert is_assigned(listed, Level.BRANCH, world.branch_ids[0])
    assert not is_assigned(listed, Level.BRANCH, world.branch_ids[1])
    assert not is_assigned(listed, Level.DEPARTMENT, world.branch_ids[0])
    admin.assign_profile(db.session, world.admin_id, Level.ORGANISATION, None, None)
    assert not is_assigned(calling.listed_assignments(db.session), Level.ORGANISATION, None)


def test_the_working_week_comes_by_day_then_start_and_holidays_by_date(
    app: Flask, world: World
) -> None:
    calendar.set_working_week(db.session, world.admin_id, [
        (1, time(13), time(17)), (0, time(13), time(17)), (0, time(8), time(12))])
    calendar.add_holiday(db.session, world.admin_id, date(2026, 9, 2), "Quốc khánh")
    calendar.add_holiday(db.session, world.admin_id, date(2026, 4, 30), "Giải phóng")

    assert calling.working_periods(db.session) == [
        (0, time(8), time(12)), (0, time(13), time(17)), (1, time(13), time(17))]
    assert [(each.day, each.name) for each in calling.public_holidays(db.session)] == [
        (date(2026, 4, 30), "Giải phóng"), (date(2026, 9, 2), "Quốc khánh")]


def test_the_audit_trail_is_newest_first_and_names_what_still_exists(
    app: Flask, world: World
) -> None:
    role = admin.save_job_role(db.session, world.admin_id, "Telesales").id
    line = admin.save_hotline(db.session, world.admin_id, "+842471001000", "Tổng đài").id
    admin.save_job_role(db.session, world.admin_id, "Telesales mới", role)

    changes = calling.latest_changes(db.session, 2)

    assert [(each.subject, each.subject_id) for each in changes] == [
        ("job_role", role), ("hotline", line)]
    assert changes[0].changes["name"] == ["Telesales", "Telesales mới"]
    names = calling.names_in_changes(db.session, calling.latest_changes(db.session, 10))
    assert names["user"] == {world.admin_id: "Quản Trị"}
    assert names["job_role"] == {role: "Telesales mới"}
    assert names["hotline"] == {line: "+842471001000"}
    assert "profile" not in names


def test_a_missing_profile_hotline_or_job_role_is_not_found(app: Flask, world: World) -> None:
    with pytest.raises(NotFound) as profile:
        calling.get_profile(db.session, 999)
    with pytest.raises(NotFound) as hotline:
        calling.get_hotline(db.session, 999)
    with pytest.raises(NotFound) as role:
        calling.get_job_role(db.session, 999)

    assert (profile.value.code, hotline.value.code, role.value.code) == (
        "profile_not_found", "hotline_not_found", "job_role_not_found")
