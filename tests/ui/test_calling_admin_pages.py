"""The calling-function pages: profiles, hotlines, assignments, roles, working time, the audit
trail, an agent's calling section and the call check, in both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from tests.support.apps import drain
from tests.support.calling import sales_profile
from tests.support.pages import csrf_token, in_english, signed_in_as, text_of
from tests.support.world import World, provision, submit
from web.extensions import db
from web.ui.calling import check as check_page
from workflow.calling import admin
from workflow.domain.calling_rules import Level
from workflow.models import Agent, Employee, utcnow
from workflow.models.calling import (
    CallingAssignment,
    CallingChange,
    CallingProfile,
    CallingSync,
    Hotline,
    JobRole,
    PublicHoliday,
    WorkingPeriod,
)

#: The administration pages of the section.
ADMIN_PAGES = ["/admin/calling", "/admin/calling/profiles/new", "/admin/calling/hotlines",
               "/admin/calling/assignments", "/admin/calling/roles", "/admin/calling/hours",
               "/admin/calling/changes"]
#: Monday 2 March 2026, 09:00 in Hồ Chí Minh City (UTC+7).
MONDAY_MORNING = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
#: The same Monday at 12:30, between the morning and the afternoon.
MONDAY_LUNCH = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)
VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')


def agent(extension: str) -> Agent:
    """The active agent with this extension."""
    db.session.expire_all()
    return db.session.scalars(select(Agent).where(Agent.extension == extension)).one()


def add_hotline(client: FlaskClient, number: str, label: str = "CSKH") -> str:
    """Post the add-hotline form; the page it leads to."""
    return text_of(client.post("/admin/calling/hotlines", data={
        "number": number, "label": label,
        "csrf_token": csrf_token(client, "/admin/calling/hotlines")}, follow_redirects=True))


def organisation_profile() -> str:
    """The name of the profile assigned to the organisation."""
    db.session.expire_all()
    return db.session.scalars(select(CallingProfile.name).join(
        CallingAssignment, CallingAssignment.profile_id == CallingProfile.id).where(
        CallingAssignment.level == "organisation")).one()


def test_the_pages_open_for_admins_and_only_the_check_and_agent_pages_for_others(
    app: Flask, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    agent_page = f"/agents/{agent('5001').id}"
    default = db.session.scalars(select(CallingProfile.id)).one()
    pages = [*ADMIN_PAGES, f"/admin/calling/profiles/{default}"]
    administrator = signed_in_as(app, world, "admin")
    for path in [*pages, "/calling/check", agent_page]:
        assert administrator.get(path).status_code == 200, path
    assert 'href="/admin/calling"' in text_of(administrator.get("/agents"))  # the nav link
    for role in ("requester", "approver"):
        client = signed_in_as(app, world, role)
        for path in pages:
            assert client.get(path).status_code == 403, (role, path)
        assert client.post("/admin/calling/hotlines", data={
            "number": "02873001234", "csrf_token": csrf_token(client, "/calling/check")}
        ).status_code == 403
        assert client.get("/calling/check").status_code == 200
        page = text_of(client.get(agent_page))
        assert "Chức năng gọi" in page and "Tổ chức — hồ sơ Mặc định" in page
        assert 'href="/admin/calling"' not in text_of(client.get("/agents"))
    assert app.test_client().get("/calling/check").status_code == 302  # sign in first
    assert administrator.get("/admin/calling/profiles/999999").status_code == 404


def test_a_hotline_is_added_in_e164_and_bad_or_repeated_numbers_are_refused(
    app: Flask, world: World
) -> None:
    client = signed_in_as(app, world, "admin")
    page = add_hotline(client, "028 7300 1234", "Tổng đài CSKH")
    assert "Đã thêm hotline +842873001234." in page and "Tổng đài CSKH" in page
    bad = add_hotline(client, "abc")
    assert "abc không phải là số điện thoại hợp lệ." in bad
    assert 'value="abc"' in bad  # what was typed is kept
    assert "Số hotline này đã có." in add_hotline(client, "02873001234")
    assert db.session.scalar(select(func.count()).select_from(Hotline)) == 1


def test_an_admin_creates_and_edits_a_profile_with_field_errors_and_a_stale_version(
    app: Flask, world: World
) -> None:
    client = signed_in_as(app, world, "admin")
    add_hotline(client, "02873001234")
    line = db.session.scalars(select(Hotline)).one()
    token = csrf_token(client, "/admin/calling/profiles/new")
    form = {"name": "Telesales", "outgoing": "y", "classes": ["internal", "mobile"],
            "hotline_ids": [str(line.id)], "default_hotline_id": str(line.id),
            "max_internal_seconds": "", "max_outgoing_seconds": "0", "csrf_token": token}
    refused = text_of(client.post("/admin/calling/profiles/new", data=form))
    assert "Thời lượng phải từ 1 đến 86400 giây." in refused
    assert 'value="Telesales"' in refused
    assert re.search(r'<input checked[^>]*value="mobile"', refused)  # ticked boxes stay ticked
    assert db.session.scalar(select(func.count()).select_from(CallingProfile)) == 1

    saved = client.post("/admin/calling/profiles/new",
                        data={**form, "max_outgoing_seconds": "1800"}, follow_redirects=True)
    listing = text_of(saved)
    assert "Đã lưu hồ sơ gọi Telesales." in listing
    row = listing[listing.index(">Telesales<"):]
    row = row[:row.index("</tr>")]
    assert "nội bộ, di động trong nước" in row and "+842873001234" in row
    assert "Gọi ra: 1800 giây (30 phút)" in row and "Nội bộ: Không giới hạn" in row

    profile = db.session.scalars(select(CallingProfile).where(
        CallingProfile.name == "Telesales")).one()
    edit = f"/admin/calling/profiles/{profile.id}"
    page = text_of(client.get(edit))
    found = VERSION.search(page)
    assert found is not None
    version = found.group(1)
    changed = {**form, "name": "Telesales HN", "classes": ["internal", "mobile", "landline"],
               "max_outgoing_seconds": "600", "after_hours": "y", "version": version}
    unlisted = text_of(client.post(edit, data={**changed, "hotline_ids": []}))
    assert "Hotline mặc định phải nằm trong các hotline được dùng." in unlisted
    assert client.post(edit, data=changed).status_code == 302
    db.session.expire_all()
    stored = db.session.get_one(CallingProfile, profile.id)
    assert (stored.name, stored.number_classes, stored.max_outgoing_seconds, stored.after_hours
            ) == ("Telesales HN", ["internal", "landline", "mobile"], 600, True)

    stale = text_of(client.post(edit, data={**changed, "name": "Người khác sửa"}))
    assert "Hồ sơ gọi vừa được người khác sửa; hãy tải lại trang." in stale
    assert 'value="Người khác sửa"' in stale  # nothing typed is lost
    db.session.expire_all()
    assert db.session.get_one(CallingProfile, profile.id).name == "Telesales HN"


def test_a_department_assignment_shows_on_the_agent_page_with_its_source(
    app: Flask, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    telesales = sales_profile(world)
    client = signed_in_as(app, world, "admin")
    page = f"/agents/{agent('5001').id}"
    assert "Tổ chức — hồ sơ Mặc định" in text_of(client.get(page))
    token = csrf_token(client, "/admin/calling/assignments")

    missing = text_of(client.post("/admin/calling/assignments/department", data={
        "department-target_id": "", "department-profile_id": str(telesales.id),
        "department-assign": "Gán", "department-csrf_token": token}))
    assert "Bắt buộc nhập trường này." in missing  # next to the department picker
    assert db.session.scalar(select(func.count()).select_from(CallingAssignment)) == 1

    done = client.post("/admin/calling/assignments/department", data={
        "department-target_id": str(world.department_ids[0]),
        "department-profile_id": str(telesales.id), "department-assign": "Gán",
        "department-csrf_token": token}, follow_redirects=True)
    assert "Đã lưu việc gán hồ sơ gọi." in text_of(done)
    assert "Kinh doanh" in text_of(done) and "Telesales" in text_of(done)

    section = text_of(signed_in_as(app, world, "requester").get(page))
    assert "Phòng ban Kinh doanh — hồ sơ Telesales" in section
    assert "+842473005678" in section and "600 giây (10 phút)" in section
    assert "nội bộ, cố định trong nước, di động trong nước" in section

    # An agent's own assignment, picked by extension, beats the department
    unknown = text_of(client.post("/admin/calling/assignments/agent", data={
        "agent-extension": "5999", "agent-profile_id": str(telesales.id),
        "agent-assign": "Gán", "agent-csrf_token": token}))
    assert "Không có agent đang hoạt động với số máy lẻ 5999." in unknown
    default = db.session.scalars(select(CallingProfile.id).where(
        CallingProfile.name == "Mặc định")).one()
    assert client.post("/admin/calling/assignments/agent", data={
        "agent-extension": "5001", "agent-profile_id": str(default),
        "agent-assign": "Gán", "agent-csrf_token": token}).status_code == 302
    assert "Agent 5001 — hồ sơ Mặc định" in text_of(client.get(page))
    # Removed from the list, the department applies again
    removed = client.post("/admin/calling/assignments/remove", data={
        "level": "agent", "target_id": str(agent("5001").id), "csrf_token": token})
    assert removed.status_code == 302
    assert "Phòng ban Kinh doanh — hồ sơ Telesales" in text_of(client.get(page))
    nothing = text_of(client.post("/admin/calling/assignments/branch", data={
        "branch-target_id": str(world.branch_ids[1]), "branch-profile_id": str(default),
        "branch-remove": "Bỏ gán", "branch-csrf_token": token}))
    assert "Chưa gán hồ sơ gọi nào ở đây." in nothing
    # With no profile anywhere, only internal calls
    for level, target in (("department", world.department_ids[0]), ("organisation", None)):
        client.post(f"/admin/calling/assignments/{level}", data={
            f"{level}-target_id": str(target or ""), f"{level}-profile_id": str(default),
            f"{level}-remove": "Bỏ gán", f"{level}-csrf_token": token})
    assert db.session.scalar(select(func.count()).select_from(CallingAssignment)) == 0
    assert "Không có hồ sơ: chỉ gọi nội bộ" in text_of(client.get(page))


def test_a_refused_assignment_names_the_forwarding_agents_and_saves_nothing(
    app: Flask, world: World
) -> None:
    for index, extension in enumerate(("5001", "5002")):
        provision(app, world, submit(world, employee_id=world.employee_ids[index],
                                     extension=extension, routing_type="phone",
                                     priority_number="0912345678",
                                     backup_number="02437654321"))
    strict = sales_profile(world, name="Không chuyển tiếp", external_forwarding=False)
    audited = db.session.scalar(select(func.count()).select_from(CallingChange))
    client = signed_in_as(app, world, "admin")
    refused = text_of(client.post("/admin/calling/assignments/organisation", data={
        "organisation-profile_id": str(strict.id), "organisation-assign": "Gán",
        "organisation-csrf_token": csrf_token(client, "/admin/calling/assignments")}))
    assert ("Thay đổi này làm 2 agent đang chuyển cuộc gọi vi phạm hồ sơ gọi: 5001, 5002."
            in refused)
    links = re.findall(r'href="/agents/(\d+)"><span class="font-monospace">(\d+)', refused)
    assert [extension for _, extension in links] == ["5001", "5002"]
    assert organisation_profile() == "Mặc định"
    assert db.session.scalar(select(func.count()).select_from(CallingChange)) == audited

    # Editing the profile in use is refused the same way, keeping what was typed
    default = db.session.scalars(select(CallingProfile).where(
        CallingProfile.name == "Mặc định")).one()
    edit = f"/admin/calling/profiles/{default.id}"
    found = VERSION.search(text_of(client.get(edit)))
    assert found is not None
    edited = text_of(client.post(edit, data={
        "name": "Mặc định", "outgoing": "y", "classes": ["internal", "mobile"],
        "version": found.group(1), "csrf_token": csrf_token(client, edit)}))
    assert "5001, 5002" in edited and 'id="refused-agents"' in edited
    db.session.expire_all()
    assert db.session.get_one(CallingProfile, default.id).external_forwarding is True


def test_the_working_week_and_a_holiday_decide_the_check_out_of_hours(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    provision(app, world, submit(world, extension="5001"))
    office = sales_profile(world, name="Giờ hành chính", after_hours=False)
    admin.assign_profile(db.session(), world.admin_id, Level.ORGANISATION, None, office.id)
    client = signed_in_as(app, world, "admin")
    token = csrf_token(client, "/admin/calling/hours")
    week = {"csrf_token": token, "week-d0_1_starts": "08:00", "week-d0_1_ends": "12:00",
            "week-d0_2_starts": "13:30", "week-d0_2_ends": "17:30"}

    backwards = text_of(client.post("/admin/calling/hours", data={
        **week, "week-d1_1_starts": "17:00", "week-d1_1_ends": "08:00",
        "week-d2_1_starts": "09:00"}))
    assert "Hãy nhập cả giờ bắt đầu và giờ kết thúc." in backwards
    assert 'value="17:00"' in backwards  # kept
    overlapping = text_of(client.post("/admin/calling/hours", data={
        **week, "week-d1_1_starts": "17:00", "week-d1_1_ends": "08:00"}))
    assert 'id="day-1-errors"' in overlapping and "Khoảng giờ làm việc không hợp lệ" in overlapping
    assert db.session.scalar(select(func.count()).select_from(WorkingPeriod)) == 0

    assert client.post("/admin/calling/hours", data=week).status_code == 302
    saved = text_of(client.get("/admin/calling/hours"))
    assert 'value="13:30"' in saved and 'value="17:30"' in saved

    check = "/calling/check?extension=5001&number=0912345678"
    requester = signed_in_as(app, world, "requester")
    monkeypatch.setattr(check_page, "utcnow", lambda: MONDAY_MORNING)
    allowed = text_of(requester.get(check))
    assert "Được gọi." in allowed and "+84912345678" in allowed
    assert "di động trong nước" in allowed and "600 giây (10 phút)" in allowed
    assert "Tổ chức — hồ sơ Giờ hành chính" in allowed
    monkeypatch.setattr(check_page, "utcnow", lambda: MONDAY_LUNCH)
    assert "Ngoài giờ làm việc: hồ sơ gọi không cho gọi ra ngoài." in text_of(
        requester.get(check))

    monkeypatch.setattr(check_page, "utcnow", lambda: MONDAY_MORNING)
    added = client.post("/admin/calling/holidays", data={
        "holiday-day": "02/03/2026", "holiday-name": "Ngày thử", "holiday-csrf_token": token},
        follow_redirects=True)
    assert "Đã thêm ngày nghỉ lễ 02/03/2026." in text_of(added) and "Ngày thử" in text_of(added)
    repeated = text_of(client.post("/admin/calling/holidays", data={
        "holiday-day": "2026-03-02", "holiday-name": "Lần nữa", "holiday-csrf_token": token}))
    assert "Ngày 02/03/2026 đã là ngày nghỉ lễ." in repeated and 'value="Lần nữa"' in repeated
    holiday = text_of(requester.get(check))
    assert "Không được gọi" in holiday
    assert "Ngoài giờ làm việc: hồ sơ gọi không cho gọi ra ngoài." in holiday

    holiday_id = db.session.scalars(select(PublicHoliday.id)).one()
    client.post(f"/admin/calling/holidays/{holiday_id}/remove", data={"csrf_token": token})
    assert "Được gọi." in text_of(requester.get(check))
    trail = text_of(client.get("/admin/calling/changes"))
    assert "Tuần làm việc" in trail and "Thứ Hai 08:00–12:00; Thứ Hai 13:30–17:30" in trail
    assert "Ngày nghỉ lễ" in trail and "02/03/2026 → —" in trail and "Quản Trị" in trail


def test_the_check_page_in_english_with_field_level_errors(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    telesales = sales_profile(world)
    admin.assign_profile(db.session(), world.admin_id, Level.DEPARTMENT, world.department_ids[0],
                         telesales.id)
    client = signed_in_as(app, world, "requester")
    in_english(client)
    empty = text_of(client.get("/calling/check"))
    assert "Check a call" in empty and "invalid-feedback" not in empty
    abroad = text_of(client.get("/calling/check?extension=5001&number=%2B14155552671"))
    assert "Not allowed" in abroad and "+14155552671" in abroad
    assert "The calling profile does not allow this kind of number." in abroad
    assert '<dd class="col-sm-8" id="check-class">international</dd>' in abroad
    assert "Department Kinh doanh — profile Telesales" in abroad
    emergency = text_of(client.get("/calling/check?extension=5001&number=115"))
    assert "An emergency number: always allowed." in emergency
    unknown = text_of(client.get("/calling/check?extension=5999&number=0912345678"))
    assert "No active agent has extension 5999." in unknown
    assert 'value="0912345678"' in unknown  # what was typed stays
    bad = text_of(client.get("/calling/check?extension=5001&number=abc&caller_id=xyz"))
    assert "abc is not a number that can be called." in bad
    assert "xyz is not a valid phone number." in bad
    assert 'id="check-result"' not in bad
    missing = text_of(client.get("/calling/check?extension=&number="))
    assert missing.count("This field is required.") == 2
    vietnamese = text_of(client.get("/calling/check?extension=5999&number=abc&lang=vi"))
    assert "Không có agent đang hoạt động với số máy lẻ 5999." in vietnamese
    assert "abc không phải là số gọi được." in vietnamese  # every field says what is wrong


def test_job_roles_are_added_renamed_and_set_on_the_employee_edit_page(
    app: Flask, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    client = signed_in_as(app, world, "admin")
    token = csrf_token(client, "/admin/calling/roles")
    added = client.post("/admin/calling/roles", data={"new-name": "Telesale",
                                                      "new-csrf_token": token},
                        follow_redirects=True)
    assert "Đã lưu chức danh Telesale." in text_of(added)
    role = db.session.scalars(select(JobRole)).one()
    client.post(f"/admin/calling/roles/{role.id}", data={
        f"role{role.id}-name": "Telesales", f"role{role.id}-csrf_token": token})
    client.post("/admin/calling/roles", data={"new-name": "CSKH", "new-csrf_token": token})
    taken = text_of(client.post(f"/admin/calling/roles/{role.id}", data={
        f"role{role.id}-name": "CSKH", f"role{role.id}-csrf_token": token}))
    assert "Đã có chức danh tên này." in taken and 'value="CSKH"' in taken
    db.session.expire_all()
    assert db.session.get_one(JobRole, role.id).name == "Telesales"

    employee_id = world.employee_ids[0]
    edit = f"/admin/employees/{employee_id}"
    form = text_of(client.get(edit))
    assert "Chức danh" in form and "Vai trò" not in form and 'name="job_role_id"' in form
    assert client.post(edit, data={
        "department_id": str(world.department_ids[0]), "full_name": "Nhân viên 0-0",
        "employee_code": "", "email": "", "active": "y", "job_role_id": str(role.id),
        "csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get_one(Employee, employee_id).job_role_id == role.id
    assert f'<option selected value="{role.id}">Telesales</option>' in text_of(client.get(edit))
    assert ">1<" in text_of(client.get("/admin/calling/roles"))  # one employee has it

    telesales = sales_profile(world)
    client.post("/admin/calling/assignments/role", data={
        "role-target_id": str(role.id), "role-profile_id": str(telesales.id),
        "role-assign": "Gán", "role-csrf_token": token})
    assert "Chức danh Telesales — hồ sơ Telesales" in text_of(
        client.get(f"/agents/{agent('5001').id}"))
    trail = text_of(client.get("/admin/calling/changes"))
    assert "Chức danh của nhân viên: Nhân viên 0-0" in trail and "— → Telesales" in trail


def test_a_refused_employee_edit_keeps_the_role_it_came_with(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    client = signed_in_as(app, world, "admin")
    token = csrf_token(client, "/admin/calling/roles")
    client.post("/admin/calling/roles", data={"new-name": "Telesale", "new-csrf_token": token})
    role = db.session.scalars(select(JobRole)).one()
    changes_before = db.session.scalar(select(func.count(CallingChange.id)))
    syncs_before = db.session.scalar(select(func.count(CallingSync.id)))
    # The employee holds agent 5001: a new role and deactivation in one save is refused whole.
    employee_id = world.employee_ids[0]
    refused = client.post(f"/admin/employees/{employee_id}", data={
        "department_id": str(world.department_ids[0]), "full_name": "Nhân viên 0-0",
        "employee_code": "", "email": "", "job_role_id": str(role.id), "csrf_token": token})
    assert refused.status_code == 200
    db.session.expire_all()
    employee = db.session.get_one(Employee, employee_id)
    assert (employee.active, employee.job_role_id) == (True, None)
    assert db.session.scalar(select(func.count(CallingChange.id))) == changes_before
    assert db.session.scalar(select(func.count(CallingSync.id))) == syncs_before


def test_the_admin_pages_speak_english(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    sales_profile(world)
    client = signed_in_as(app, world, "admin")
    in_english(client)
    headings = {"/admin/calling": "Add a calling profile",
                "/admin/calling/hotlines": "Add a hotline",
                "/admin/calling/assignments": "Assign calling profiles",
                "/admin/calling/roles": "Add a job role",
                "/admin/calling/hours": "Working week",
                "/admin/calling/changes": "Change log",
                f"/agents/{agent('5001').id}": "Organisation — profile Mặc định"}
    for path, heading in headings.items():
        page = text_of(client.get(path))
        assert heading in page, path
        assert "Chức năng gọi" not in page, path


def test_the_sync_after_a_change_shows_as_done_with_its_agent_count(
    app: Flask, world: World
) -> None:
    for index, extension in enumerate(("5001", "5002")):
        provision(app, world, submit(world, employee_id=world.employee_ids[index],
                                     extension=extension))
    client = signed_in_as(app, world, "admin")
    assert "Chưa có lần đồng bộ nào." in text_of(client.get("/admin/calling/changes"))
    assert 'id="latest-sync"' not in text_of(client.get("/admin/calling"))

    admin.save_hotline(db.session(), world.admin_id, "02473005678", "Bán hàng")
    assert 'data-sync-state="waiting">Chờ chạy<' in text_of(client.get("/admin/calling"))
    drain(app)
    profiles = text_of(client.get("/admin/calling"))
    assert 'data-sync-state="done">Xong: 2 agent, 0 thay đổi<' in profiles
    assert 'href="/admin/calling/changes#syncs"' in profiles
    trail = text_of(client.get("/admin/calling/changes"))
    assert "Đồng bộ tổng đài" in trail and "Xong: 2 agent, 0 thay đổi" in trail
    assert "<progress" not in trail

    in_english(client)
    trail = text_of(client.get("/admin/calling/changes"))
    assert "Phone-system syncs" in trail and "Done: 2 agent(s), 0 changed" in trail


def test_a_running_sync_shows_its_progress_and_a_failed_one_its_error(
    app: Flask, world: World
) -> None:
    admin.save_hotline(db.session(), world.admin_id, "02473005678", "Bán hàng")
    sync_id = db.session.scalars(select(CallingSync.id)).one()
    client = signed_in_as(app, world, "admin")

    def sync_is(**values: Any) -> None:
        db.session.execute(update(CallingSync).where(CallingSync.id == sync_id).values(values))
        db.session.commit()

    sync_is(started_at=utcnow(), total=3, done=1)
    for path in ("/admin/calling", "/admin/calling/changes"):
        page = text_of(client.get(path))
        assert 'data-sync-state="running">Đang chạy: 1/3 agent<' in page, path
        assert '<progress class="d-block w-100 mt-1" value="1" max="3"' in page, path
        assert " style=" not in page, path  # the strict CSP allows no inline style
    sync_is(total=0, done=0)
    page = text_of(client.get("/admin/calling/changes"))
    assert "Đang chạy: đang đếm agent" in page
    assert '<progress class="d-block w-100 mt-1" aria-label=' in page  # no value: indeterminate

    sync_is(last_error="Kamailio không trả lời", lease_until=utcnow())
    page = text_of(client.get("/admin/calling/changes"))
    assert 'data-sync-state="failed">Lỗi: Kamailio không trả lời — sẽ thử lại<' in page
    assert "<progress" not in page
    sync_is(last_error=None, finished_at=utcnow(), superseded=True)
    assert "Đã gộp vào lần đồng bộ sau" in text_of(client.get("/admin/calling/changes?syncs=all"))

    sync_is(finished_at=None, superseded=False, total=3, done=2)
    in_english(client)
    page = text_of(client.get("/admin/calling"))
    assert "Running: 2/3 agent(s)" in page and "Phone-system sync" in page
