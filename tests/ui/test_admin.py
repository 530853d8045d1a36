"""Administration pages, and which role may open which page (the 403 matrix)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.pages import csrf_token, sign_in
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.models import Branch, Department, User, current_organisation

#: Every page and who may open it.
PAGES = {
    "/agents": {"requester", "approver", "admin"},
    "/agents/setup": {"requester", "approver", "admin"},
    "/agents/export.csv": {"requester", "approver", "admin"},
    "/tickets": {"requester", "approver", "admin"},
    "/notifications": {"requester", "approver", "admin"},
    "/approvals": {"approver", "admin"},
    "/admin/users": {"admin"},
    "/admin/policy": {"admin"},
    "/admin/users/new": {"admin"},
    "/admin/structure": {"admin"},
    "/admin/employees": {"admin"},
    "/admin/employees/new": {"admin"},
    "/admin/employees/import": {"admin"},
    "/admin/emails": {"admin"},
}


@pytest.mark.parametrize("role", ["requester", "approver", "admin", None])
def test_each_role_opens_its_pages_and_is_refused_the_others(
    app: Flask, world: World, role: str | None
) -> None:
    client = app.test_client()
    if role:
        sign_in(client, world.emails[role])
    for path, allowed in PAGES.items():
        status = client.get(path).status_code
        expected = 302 if role is None else 200 if role in allowed else 403
        assert status == expected, (role, path, status)


def admin_client(app: Flask, world: World) -> FlaskClient:
    """A browser signed in as the admin."""
    client = app.test_client()
    sign_in(client, world.emails["admin"])
    return client


def test_a_policy_that_would_break_active_extensions_is_refused_with_them(
    app: Flask, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    admin = admin_client(app, world)
    token = csrf_token(admin, "/admin/policy")
    refused = admin.post("/admin/policy", data={"length": "4", "prefix": "6", "reserved": "",
                                                "csrf_token": token})
    assert "5001" in refused.get_data(as_text=True)
    assert "Quy tắc mới làm các số đang dùng không hợp lệ" in refused.get_data(as_text=True)
    bad = admin.post("/admin/policy", data={"length": "4", "prefix": "5",
                                            "reserved": "5000, năm", "csrf_token": token})
    assert "Số giữ lại phải là các số máy lẻ hợp lệ" in bad.get_data(as_text=True)
    saved = admin.post("/admin/policy", data={"length": "4", "prefix": "5",
                                              "reserved": "5000 5999", "csrf_token": token})
    assert saved.status_code == 302
    db.session.expire_all()
    assert current_organisation(db.session()).reserved_extensions == ["5000", "5999"]


def test_an_admin_sets_roles_and_scopes_but_never_removes_the_last_admin(
    app: Flask, world: World
) -> None:
    admin = admin_client(app, world)
    token = csrf_token(admin, "/admin/users")
    assert world.emails["other_approver"] in admin.get("/admin/users").get_data(as_text=True)
    admin.post(f"/admin/users/{world.requester_id}", data={
        "role": "approver", "branch_ids": [str(world.branch_ids[1])], "active": "y",
        "csrf_token": token})
    db.session.expire_all()
    promoted = db.session.get_one(User, world.requester_id)
    assert (promoted.role, [b.id for b in promoted.branches], promoted.all_branches) == (
        "approver", [world.branch_ids[1]], False)
    refused = admin.post(f"/admin/users/{world.admin_id}", data={
        "role": "requester", "active": "y", "csrf_token": token})
    assert "quản trị viên cuối cùng" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(User.role).where(User.id == world.admin_id)) == "admin"


def test_a_deactivated_user_cannot_sign_in(app: Flask, world: World) -> None:
    admin = admin_client(app, world)
    admin.post(f"/admin/users/{world.requester_id}", data={
        "role": "requester", "csrf_token": csrf_token(admin, "/admin/users")})  # no "active"
    page = app.test_client()
    assert "Email hoặc mật khẩu không đúng." in sign_in(page, world.emails["requester"])


def test_an_admin_builds_the_structure_and_cannot_close_a_unit_with_active_agents(
    app: Flask, world: World
) -> None:
    admin = admin_client(app, world)
    token = csrf_token(admin, "/admin/structure")
    admin.post("/admin/branches/new", data={"name": "Cơ sở Cần Thơ", "kind": "facility",
                                            "active": "y", "csrf_token": token})
    branch = db.session.scalars(select(Branch).where(Branch.name == "Cơ sở Cần Thơ")).one()
    admin.post("/admin/departments/new", data={"branch_id": str(branch.id), "name": "Kho",
                                               "active": "y", "csrf_token": token})
    department = db.session.scalars(select(Department).where(Department.name == "Kho")).one()
    created = admin.post("/admin/employees/new", data={
        "department_id": str(department.id), "full_name": "Lý Văn Kho", "employee_code": "K1",
        "email": "", "active": "y", "csrf_token": token})
    assert created.status_code == 302
    assert "Lý Văn Kho" in admin.get(f"/admin/employees?department_id={department.id}"
                                     ).get_data(as_text=True)
    bad = admin.post("/admin/employees/new", data={
        "department_id": str(department.id), "full_name": "", "email": "sai",
        "csrf_token": token}).get_data(as_text=True)
    assert "Bắt buộc nhập trường này." in bad and "Địa chỉ email không hợp lệ." in bad

    provision(app, world, submit(world, extension="5001"))
    closing = admin.post(f"/admin/departments/{world.department_ids[0]}", data={
        "branch_id": str(world.branch_ids[0]), "name": "Kinh doanh", "csrf_token": token})
    assert "Còn 1 nhân viên có tài khoản agent đang hoạt động" in closing.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(Department, world.department_ids[0]).active
    assert "Cơ sở Cần Thơ" in admin.get("/admin/structure").get_data(as_text=True)


def test_an_admin_adds_a_user_who_can_then_sign_in(app: Flask, world: World) -> None:
    admin = admin_client(app, world)
    token = csrf_token(admin, "/admin/users/new")
    data = {"email": "moi@test.vn", "full_name": "Người Duyệt Mới", "password": "mat-khau-dai",
            "role": "approver", "branch_ids": [str(world.branch_ids[0])], "csrf_token": token}
    assert admin.post("/admin/users/new", data=data).status_code == 302
    again = admin.post("/admin/users/new", data=data).get_data(as_text=True)
    assert "Email này đã có người dùng." in again
    short = admin.post("/admin/users/new", data={**data, "email": "b@test.vn",
                                                 "password": "ngan"}).get_data(as_text=True)
    assert "Cần từ 8 đến 200 ký tự." in short
    newcomer = app.test_client()
    assert sign_in(newcomer, "moi@test.vn", "mat-khau-dai") == "/agents"
    assert newcomer.get("/approvals").status_code == 200
