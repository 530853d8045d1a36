"""Finding people without typing diacritics, and Vietnamese order, on the pages and the API."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import ApiClient
from tests.support.pages import csrf_token, sign_in, upload
from tests.support.world import World
from web.extensions import db
from workflow.models import Agent, Department, Employee

#: People of the first department; each gets an agent account.
PEOPLE = (
    "Nguyễn Văn An", "Trần Văn An", "Nguyễn Thị Bình", "NGUYỄN HỮU CƯỜNG", "Đặng Thị Ngọc",
    "Lê Văn Dung", "Hoàng Văn Đức", "Vũ Thị Em", "Phan Thị Hoa", "Phạm Thị Hoa",
)
#: The same people by given name, then family and middle names.
BY_GIVEN_NAME = [
    "Nguyễn Văn An", "Trần Văn An", "Nguyễn Thị Bình", "NGUYỄN HỮU CƯỜNG", "Lê Văn Dung",
    "Hoàng Văn Đức", "Vũ Thị Em", "Phạm Thị Hoa", "Phan Thị Hoa", "Đặng Thị Ngọc",
]
NGUYENS = {"Nguyễn Văn An", "Nguyễn Thị Bình", "NGUYỄN HỮU CƯỜNG"}
SPELLINGS = ("nguyen", "NGUYEN", "Nguyễn", "nguyễn", "NGUYỄN", " nguyen ")


def staff(world: World) -> None:
    """Add PEOPLE to the first department, each with an active agent account."""
    for number, name in enumerate(PEOPLE):
        employee = Employee(department_id=world.department_ids[0], full_name=name)
        db.session.add(Agent(employee=employee, extension=f"51{number:02d}",
                             sip_username=f"sip-{number}"))
    db.session.commit()


def browser(app: Flask, world: World, role: str) -> FlaskClient:
    """A browser signed in with that role."""
    client = app.test_client()
    sign_in(client, world.emails[role])
    return client


def listed(page: str) -> list[str]:
    """The people of the agent list or the staff page, in the order shown."""
    return re.findall(r'<a href="/(?:agents|admin/employees|admin/users)/\d+">([^<]+)</a>', page)


def test_the_agent_list_finds_people_however_their_name_is_typed(
    app: Flask, world: World
) -> None:
    staff(world)
    client = browser(app, world, "requester")
    for q in SPELLINGS:
        page = client.get("/agents", query_string={"q": q}).get_data(as_text=True)
        assert set(listed(page)) == NGUYENS, q
    page = client.get("/agents", query_string={"q": "dang"}).get_data(as_text=True)
    assert listed(page) == ["Đặng Thị Ngọc"]
    page = client.get("/agents", query_string={"q": "van an"}).get_data(as_text=True)
    assert set(listed(page)) == {"Nguyễn Văn An", "Trần Văn An"}
    export = client.get("/agents/export.csv", query_string={"q": "ĐỨC"}).get_data(as_text=True)
    assert "Hoàng Văn Đức" in export and "Lê Văn Dung" not in export


def test_the_agent_list_sorts_people_by_given_name_in_vietnamese_order(
    app: Flask, world: World
) -> None:
    staff(world)
    page = browser(app, world, "requester").get("/agents?sort=name").get_data(as_text=True)
    assert listed(page) == BY_GIVEN_NAME


def test_the_employee_search_of_the_setup_form_ignores_diacritics_and_case(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    staff(world)
    url = f"/api/v1/departments/{world.department_ids[0]}/employees"
    requester = api("requester")
    for q in SPELLINGS:
        found = requester.get(url, query_string={"q": q})
        assert found.status_code == 200, found.json
        assert {person["full_name"] for person in found.json} == NGUYENS, q
    assert [p["full_name"] for p in requester.get(f"{url}?q=dang").json] == ["Đặng Thị Ngọc"]
    assert requester.get(f"{url}?q=%25").json == []  # a % typed is a %, not "anything"
    everyone = [person["full_name"] for person in requester.get(url).json]
    assert everyone == [f"Nhân viên 0-{i}" for i in range(4)] + BY_GIVEN_NAME  # digits first


def test_the_staff_page_searches_and_sorts_the_same_way(app: Flask, world: World) -> None:
    staff(world)
    client = browser(app, world, "admin")
    page = client.get("/admin/employees?q=NGUYEN").get_data(as_text=True)
    assert listed(page) == ["Nguyễn Văn An", "Nguyễn Thị Bình", "NGUYỄN HỮU CƯỜNG"]


def test_users_are_listed_by_given_name(app: Flask, world: World) -> None:
    page = browser(app, world, "admin").get("/admin/users").get_data(as_text=True)
    assert listed(page) == ["Người Yêu Cầu", "Người Duyệt", "Người Duyệt Khác", "Quản Trị"]


def test_departments_and_branches_are_in_vietnamese_order(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    db.session.add(Department(branch_id=world.branch_ids[0], name="Kế toán"))
    db.session.commit()
    requester = api("requester")
    departments = requester.get(f"/api/v1/branches/{world.branch_ids[0]}/departments").json
    assert [d["name"] for d in departments] == ["Kế toán", "Kinh doanh", "Kỹ thuật"]
    assert [b["name"] for b in requester.get("/api/v1/branches").json] == ["Đà Nẵng", "Hà Nội"]


def test_renamed_and_imported_people_are_found_without_diacritics(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    renamed = db.session.get(Employee, world.employee_ids[0])
    assert renamed is not None
    renamed.full_name = "Đỗ Thị Thuỷ"
    db.session.commit()
    admin = browser(app, world, "admin")
    preview = upload(admin, "Chi nhánh,Phòng ban,Họ tên,Mã nhân viên,Email\n"
                            "Hà Nội,Kinh doanh,Đoàn Văn Thủy,NV950,\n")
    content = re.search(r'name="content" type="hidden" value="([^"]+)"', preview)
    assert content
    applied = admin.post("/admin/employees/import", data={
        "csrf_token": csrf_token(admin, "/admin/employees/import"), "apply": "1",
        "content": content.group(1)}, content_type="multipart/form-data")
    assert applied.status_code == 302
    url = f"/api/v1/departments/{world.department_ids[0]}/employees?q=thuy"
    # Same given name, then the family name: "Đoàn" before "Đỗ", as o comes before ô.
    assert [p["full_name"] for p in api("requester").get(url).json] == [
        "Đoàn Văn Thủy", "Đỗ Thị Thuỷ"]
