"""Names and emails that would break an email header are refused on every way in.

A line break (also U+2028, U+2029 or NEL, e.g. pasted) in a name, or an address on two
lines, is refused with a message on its field, in Vietnamese and in English: on the admin
employee and user forms, in the CSV import preview (and its write), and by the command line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.support.pages import csrf_token, sign_in
from tests.support.world import World
from web.cli import cli
from web.extensions import db
from workflow.models import Employee, User

#: A name with each kind of line break, and the code point the message names.
BROKEN_NAMES = [("Nguyễn\nVăn Mới", "U+000A"), ("Nguyễn\u2028Văn Mới", "U+2028"),
                ("Nguyễn\x85Văn Mới", "U+0085")]
POISONED_EMAIL = "mail\npoison@x.vn"
UNSAFE_VI = "Họ tên không được chứa ký tự điều khiển hay ký tự xuống dòng ({code})."
UNSAFE_EN = "The full name must not contain control characters or line breaks ({code})."


def admin(app: Flask, world: World) -> FlaskClient:
    """A browser signed in as the admin."""
    client = app.test_client()
    sign_in(client, world.emails["admin"])
    return client


def count(model: type[Employee] | type[User]) -> int:
    """How many rows of `model` exist."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(("name", "code"), BROKEN_NAMES)
def test_the_employee_form_refuses_a_name_with_a_line_break(
    app: Flask, world: World, name: str, code: str
) -> None:
    client = admin(app, world)
    before = count(Employee)
    data = {"department_id": str(world.department_ids[0]), "full_name": name,
            "employee_code": "NV77", "email": "", "active": "y",
            "csrf_token": csrf_token(client, "/admin/employees/new")}
    page = client.post("/admin/employees/new", data=data)
    assert page.status_code == 200
    assert UNSAFE_VI.format(code=code) in page.get_data(as_text=True)
    english = client.post("/admin/employees/new?lang=en", data=data).get_data(as_text=True)
    assert UNSAFE_EN.format(code=code) in english
    # so is an edit of an employee already there
    edited = client.post(f"/admin/employees/{world.employee_ids[0]}", data=data)
    assert UNSAFE_VI.format(code=code) in edited.get_data(as_text=True)
    assert count(Employee) == before
    assert db.session.get_one(Employee, world.employee_ids[0]).full_name == "Nhân viên 0-0"


def test_the_employee_form_refuses_an_address_on_two_lines_and_keeps_a_normalised_one(
    app: Flask, world: World
) -> None:
    client = admin(app, world)
    data = {"department_id": str(world.department_ids[0]), "full_name": "Lê Văn Thư",
            "email": POISONED_EMAIL, "active": "y",
            "csrf_token": csrf_token(client, "/admin/employees/new")}
    assert "Địa chỉ email không hợp lệ." in client.post(
        "/admin/employees/new", data=data).get_data(as_text=True)
    assert "Invalid email address." in client.post(
        "/admin/employees/new?lang=en", data=data).get_data(as_text=True)
    assert db.session.scalar(select(Employee).where(Employee.full_name == "Lê Văn Thư")) is None
    saved = client.post("/admin/employees/new", data={**data, "email": "Le.Thu@Test.VN"})
    assert saved.status_code == 302
    assert db.session.scalars(select(Employee.email).where(
        Employee.full_name == "Lê Văn Thư")).one() == "Le.Thu@test.vn"


def test_branch_and_department_names_are_one_line(app: Flask, world: World) -> None:
    client = admin(app, world)
    token = csrf_token(client, "/admin/structure")
    branch = client.post("/admin/branches/new", data={
        "name": "Cơ sở\u2029Huế", "kind": "branch", "active": "y", "csrf_token": token})
    assert "Tên không được chứa ký tự điều khiển hay ký tự xuống dòng (U+2029)." in (
        branch.get_data(as_text=True))
    department = client.post("/admin/departments/new?lang=en", data={
        "branch_id": str(world.branch_ids[0]), "name": "Kho\r\nBcc: x@evil.vn", "active": "y",
        "csrf_token": token})
    assert "The name must not contain control characters or line breaks (U+000D, U+000A)." in (
        department.get_data(as_text=True))


def csv_file(*rows: tuple[str, str, str, str, str]) -> str:
    """A CSV with the usual header, quoting what needs quoting (as a spreadsheet saves it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("Chi nhánh", "Phòng ban", "Họ tên", "Mã nhân viên", "Email"))
    writer.writerows(rows)
    return out.getvalue()


def upload(client: FlaskClient, text: str, button: str = "preview", language: str = "vi") -> str:
    """Post a CSV file (UTF-8 with BOM) for a preview or the import; returns the page."""
    data = {"csrf_token": csrf_token(client, "/admin/employees/import"), button: "1",
            "file": (io.BytesIO(text.encode("utf-8-sig")), "nhan-vien.csv")}
    return client.post(f"/admin/employees/import?lang={language}", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)


def test_the_import_preview_marks_each_poisoned_row_and_nothing_is_written(
    app: Flask, world: World
) -> None:
    client = admin(app, world)
    before = count(Employee)
    text = csv_file(*[("Hà Nội", "Kinh doanh", name, f"NV80{index}", "")
                      for index, (name, _code) in enumerate(BROKEN_NAMES)],
                    ("Hà Nội", "Kinh doanh", "Đỗ Thị Mai", "NV810", POISONED_EMAIL),
                    ("Hà Nội", "Kho\u2028Bãi", "Vũ Văn Kho", "NV811", ""),
                    ("Hà Nội", "Kinh doanh", "Phan Văn Tốt", "NV812", "tot@test.vn"))
    page = upload(client, text)
    assert "6 dòng, 5 dòng lỗi" in page
    for _name, code in BROKEN_NAMES:
        assert UNSAFE_VI.format(code=code) in page
    assert "Email không được chứa ký tự điều khiển hay ký tự xuống dòng (U+000A)." in page
    assert "Phòng ban không được chứa ký tự điều khiển hay ký tự xuống dòng (U+2028)." in page
    assert page.count("Thêm mới") == 1  # only the clean row
    assert 'name="apply"' not in page
    english = upload(client, text, language="en")
    assert UNSAFE_EN.format(code="U+2028") in english
    assert "The email must not contain control characters or line breaks (U+000A)." in english
    # Writing the file anyway (a hand-made request) is refused as a whole
    upload(client, text, button="apply")
    assert count(Employee) == before


def test_the_user_form_refuses_a_name_with_a_line_break_or_an_address_on_two_lines(
    app: Flask, world: World
) -> None:
    client = admin(app, world)
    before = count(User)
    data = {"email": "moi@test.vn", "password": "mat-khau-dai", "role": "requester",
            "csrf_token": csrf_token(client, "/admin/users/new")}
    for name, code in BROKEN_NAMES:
        page = client.post("/admin/users/new", data={**data, "full_name": name})
        assert UNSAFE_VI.format(code=code) in page.get_data(as_text=True)
        english = client.post("/admin/users/new?lang=en", data={**data, "full_name": name})
        assert UNSAFE_EN.format(code=code) in english.get_data(as_text=True)
    poisoned = client.post("/admin/users/new", data={
        **data, "full_name": "Người Mới", "email": POISONED_EMAIL}).get_data(as_text=True)
    assert "Địa chỉ email không hợp lệ." in poisoned
    assert count(User) == before


def test_the_command_line_refuses_them_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["seed-demo"]).exit_code == 0
    for arguments in (["a@demo.vn", "--name", "Nguyễn\u2028Văn"], [POISONED_EMAIL]):
        refused = runner.invoke(cli, ["users", "create", *arguments, "--role", "admin",
                                      "--password-stdin"], input="long-password\n")
        assert refused.exit_code != 0 and "text_unsafe" in refused.output, refused.output
    created = runner.invoke(cli, ["users", "create", "Lan@Demo.VN", "--name", " Trần Lan ",
                                  "--role", "requester", "--password-stdin"],
                            input="long-password\n")
    assert created.exit_code == 0 and "lan@demo.vn" in created.output
