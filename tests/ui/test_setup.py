"""The "Thiết lập agent" form, without a browser: every rule's message lands on its field."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.pages import csrf_token, filing, setup_page, sign_in, tickets
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.models import Ticket


@pytest.fixture
def requester(app: Flask, world: World) -> FlaskClient:
    """A browser signed in as the requester."""
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    return client


def test_the_form_opens_from_the_agent_list_with_its_choices(
    requester: FlaskClient, world: World
) -> None:
    assert 'href="/agents/setup"' in requester.get("/agents").get_data(as_text=True)
    page = setup_page(requester, world)
    assert "Cấp mới TK" in page and "Ngừng cấp TK cloud phone" in page
    assert "Đổ chuông đồng thời trên App và Web (khuyến nghị)" in page
    assert re.search(r'<input checked[^>]*value="app_web"', page)  # preselected
    assert not re.search(r'<input checked[^>]*value="phone"', page)
    assert "Đúng 4 chữ số, bắt đầu bằng 5" in page
    assert "Hoàn thành và thoát" in page and "Hoàn thành và điền mới" in page


def test_complete_and_exit_files_the_ticket(requester: FlaskClient, world: World) -> None:
    response = requester.post("/agents/setup", data=filing(requester, world, extension="5001",
                                                            details="Nhân viên mới"))
    ticket = db.session.scalars(select(Ticket)).one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tickets/{ticket.id}"
    page = requester.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Đã gửi phiếu #{ticket.id}" in page and "Chờ duyệt" in page
    assert (ticket.extension, ticket.details, ticket.routing_type) == (
        "5001", "Nhân viên mới", "app_web")


def test_complete_and_fill_new_keeps_branch_and_department(
    requester: FlaskClient, world: World
) -> None:
    response = requester.post("/agents/setup", data=filing(
        requester, world, submit_exit="", submit_new="1"))
    location = response.headers["Location"]
    assert location == (f"/agents/setup?branch_id={world.branch_ids[0]}"
                        f"&department_id={world.department_ids[0]}")
    fresh = requester.get(location).get_data(as_text=True)
    assert re.search(rf'<option selected value="{world.department_ids[0]}"', fresh)
    assert tickets() == 1


def test_a_double_submit_files_one_ticket(requester: FlaskClient, world: World) -> None:
    data = filing(requester, world)
    first = requester.post("/agents/setup", data=data)
    again = requester.post("/agents/setup", data=data)
    assert first.status_code == again.status_code == 302
    assert tickets() == 1


def test_errors_come_back_next_to_their_fields_with_the_values_kept(
    requester: FlaskClient, world: World
) -> None:
    page = requester.post("/agents/setup", data=filing(
        requester, world, extension="0501", routing_type="phone",
        priority_number="0912345678", backup_number="0912345678",
        details="Giữ nguyên")).get_data(as_text=True)
    assert "Số máy lẻ không được bắt đầu bằng 0." in page
    assert "Số dự phòng phải khác số ưu tiên." in page
    assert 'value="0501"' in page and "Giữ nguyên" in page and 'value="0912345678"' in page
    assert tickets() == 0


def test_a_taken_extension_names_its_holder_in_english_too(
    app: Flask, requester: FlaskClient, world: World
) -> None:
    provision(app, world, submit(world, employee_id=world.employee_ids[1], extension="5001"))
    requester.post("/language", data={"language": "en",
                                      "csrf_token": csrf_token(requester, "/agents")})
    page = requester.post("/agents/setup", data=filing(
        requester, world, extension="5001")).get_data(as_text=True)
    assert "Extension 5001 is in use by" in page


def test_change_and_revoke_show_the_current_account(
    app: Flask, requester: FlaskClient, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    assert "Hiện tại: số máy lẻ 5001" in setup_page(requester, world)
    nothing = requester.post("/agents/setup", data=filing(
        requester, world, kind="change", extension="5001")).get_data(as_text=True)
    assert "Phiếu đổi tài khoản phải thay đổi số máy lẻ, định tuyến hoặc mật khẩu SIP." in nothing
    changed = requester.post("/agents/setup", data=filing(
        requester, world, kind="change", extension="5656"))
    assert changed.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(Ticket.extension).order_by(Ticket.id.desc())).first() == "5656"


def test_a_missing_employee_is_a_field_error(requester: FlaskClient, world: World) -> None:
    page = requester.post("/agents/setup", data=filing(
        requester, world, employee_id="")).get_data(as_text=True)
    assert "Vui lòng chọn nhân viên." in page  # a select asks to choose
    assert tickets() == 0


def option_of(page: str, employee_id: int) -> str:
    """The picker's option for an employee, as the page renders it."""
    picker = page[page.index('id="employee_id"'):]
    picker = picker[:picker.index("</select>")]
    found = re.search(rf'<option[^>]*value="{employee_id}"[^>]*>[^<]*</option>', picker)
    assert found, f"no option for employee {employee_id}"
    return found.group(0)


def test_the_picker_marks_agents_and_open_tickets_and_offers_who_fits_the_kind(
    app: Flask, requester: FlaskClient, world: World
) -> None:
    provision(app, world, submit(world, extension="5001"))
    waiting = submit(world, employee_id=world.employee_ids[1])
    holder, busy, free = world.employee_ids[0], world.employee_ids[1], world.employee_ids[3]
    new = setup_page(requester, world, employee=2)
    assert "(số 5001)" in option_of(new, holder) and "disabled" in option_of(new, holder)
    assert f"(đang có phiếu #{waiting.id})" in option_of(new, busy)
    assert "disabled" in option_of(new, busy) and "disabled" not in option_of(new, free)
    change = requester.get(f"/agents/setup?branch_id={world.branch_ids[0]}"
                           f"&department_id={world.department_ids[0]}&kind=change"
                           ).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="change"', change)
    assert "disabled" not in option_of(change, holder)
    assert "disabled" in option_of(change, free) and "disabled" in option_of(change, busy)
    assert "Để trống để giữ số máy lẻ hiện tại." in change
    # The one already chosen stays offered, so the form keeps it next to its message
    chosen = setup_page(requester, world, employee=0)
    assert "disabled" not in option_of(chosen, holder)
