"""Importing employees from CSV: a preview that lists each row's errors, then all or nothing."""

from __future__ import annotations

import base64
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.support.pages import csrf_token, sign_in, upload, windows_vietnamese
from tests.support.world import World
from web.extensions import db
from workflow.models import Department, Employee

GOOD = (
    "Chi nhánh,Phòng ban,Họ tên,Mã nhân viên,Email\n"
    "Hà Nội,Kinh doanh,Phạm Văn Mới,NV900,moi@test.vn\n"
    "đà nẵng,Chăm sóc khách hàng,Võ Thị Hai,NV901,\n"
)
BAD = (
    "chi_nhanh;phong_ban;ho_ten;ma_nhan_vien;email\n"
    "Hà Nội;Kinh doanh;Đúng Một Dòng;NV910;\n"
    "Huế;Kinh doanh;Sai Chi Nhánh;NV911;\n"
    "Hà Nội;Kinh doanh;;NV912;khong-phai-email\n"
    "Hà Nội;Kinh doanh;Trùng Mã;NV910;\n"
)


def employees() -> int:
    """How many employees exist."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Employee)) or 0


def admin(app: Flask, world: World) -> FlaskClient:
    """A browser signed in as the admin."""
    client = app.test_client()
    sign_in(client, world.emails["admin"])
    return client


def test_the_preview_lists_every_rows_errors_and_writes_nothing(
    app: Flask, world: World
) -> None:
    before = employees()
    page = upload(admin(app, world), BAD)
    assert "4 dòng, 3 dòng lỗi" in page
    assert "Không có chi nhánh «Huế»." in page
    assert "Thiếu họ tên" in page and "Địa chỉ email không hợp lệ." in page
    assert "Mã nhân viên NV910 lặp lại trong tệp." in page
    assert 'name="apply"' not in page  # nothing to import until the file is fixed
    assert employees() == before


def test_a_clean_file_is_previewed_then_imported_as_previewed(app: Flask, world: World) -> None:
    client = admin(app, world)
    before = employees()
    page = upload(client, GOOD, windows=True)
    assert "2 dòng, 0 dòng lỗi" in page and "Thêm mới" in page and "mới</span>" in page
    content = re.search(r'name="content" type="hidden" value="([^"]+)"', page)
    assert content and base64.b64decode(content.group(1)) == windows_vietnamese(GOOD)
    done = client.post("/admin/employees/import", data={
        "csrf_token": csrf_token(client, "/admin/employees/import"), "apply": "1",
        "content": content.group(1)}, content_type="multipart/form-data")
    assert done.status_code == 302
    assert employees() == before + 2
    new_department = db.session.scalars(select(Department).where(
        Department.name == "Chăm sóc khách hàng")).one()
    assert new_department.branch_id == world.branch_ids[1]
    again = upload(client, GOOD.replace("Phạm Văn Mới", "Phạm Văn Đổi"))
    assert "Cập nhật" in again


def test_a_file_without_the_needed_columns_is_refused_clearly(app: Flask, world: World) -> None:
    page = upload(admin(app, world), "a,b\n1,2\n")
    assert "Không đọc được tệp CSV (cần các cột: chi nhanh, phong ban, ho ten)." in page
