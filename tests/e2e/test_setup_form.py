"""The "Thiết lập agent" form and the ticket page as an office uses them every day, on a wide
screen and on a phone: routing of a change, marked employees, Back, stale errors, cancelling.

The module's server gets its own staff first (through the API): in the first department, an
employee with an agent ringing a phone, one with an agent on App+Web, one with an open ticket.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import APIRequestContext, Browser, Locator, Page, expect

from tests.support.browser import (
    ACTION_TIMEOUT_MS,
    APPROVER,
    REQUESTER,
    answer_next_dialog,
    api_login,
    login,
)

Screenshot = Callable[..., Path]

#: The widths the pages must work at: an office screen and a phone.
WIDTHS = [1366, 390]
PHONE_LABEL = "Đổ chuông trên số điện thoại chỉ định"
APP_WEB_LABEL = "Đổ chuông đồng thời trên App và Web (khuyến nghị)"


@dataclass(frozen=True)
class Staff:
    """Employees of a department of the first branch, in the state the tests need."""

    department_index: int
    on_phone: int  # has an agent ringing 0912345678, backup 0987654321
    on_app_web: int  # has an agent on App+Web
    with_ticket: int  # has a submitted new-account ticket
    ticket_id: int
    free: list[int]  # neither agent nor open ticket
    extensions: dict[int, str]


def wait_until_provisioned(request: APIRequestContext, ticket_id: int, page: Page) -> str:
    """Poll the ticket until the embedded worker has provisioned it; returns its extension."""
    for _ in range(100):
        ticket = request.get(f"/api/v1/tickets/{ticket_id}").json()
        if ticket["state"] == "provisioned":
            return str(ticket["extension"])
        page.wait_for_timeout(150)
    raise AssertionError(f"ticket {ticket_id} is still {ticket['state']}")


@pytest.fixture(scope="module")
def staff(browser: Browser, live_server: str) -> Iterator[Staff]:
    """Two agents (phone, App+Web) and one open ticket, filed and approved through the API."""
    context = browser.new_context(base_url=live_server)
    approver_context = browser.new_context(base_url=live_server)
    try:
        page, approver = context.new_page(), approver_context.new_page()
        api_login(page, REQUESTER)
        api_login(approver, APPROVER)
        branch = page.request.get("/api/v1/branches").json()[0]["id"]
        # The first department with four employees free of agents and tickets (the demo
        # has both); its place in the picker, after the empty choice
        department_index, people = next(
            (index, free) for index, department in enumerate(
                page.request.get(f"/api/v1/branches/{branch}/departments").json(), start=1)
            if len(free := [person["id"] for person in page.request.get(
                f"/api/v1/departments/{department['id']}/employees").json()
                if person["agent"] is None and person["open_ticket_id"] is None]) >= 4)
        routings = [{"type": "phone", "priority_number": "0912345678",
                     "backup_number": "0987654321"}, {"type": "app_web"}, None]
        ids = []
        for person, routing in zip(people, routings, strict=False):
            filed = page.request.post("/api/v1/tickets", data={
                "kind": "new", "employee_id": person, "routing": routing})
            assert filed.status == 201, filed.text()
            ids.append(int(filed.json()["id"]))
        extensions = {}
        for person, ticket in zip(people[:2], ids[:2], strict=True):
            approved = approver.request.post(f"/api/v1/tickets/{ticket}/approve", data={})
            assert approved.status == 200, approved.text()
            extensions[person] = wait_until_provisioned(page.request, ticket, page)
        yield Staff(department_index, people[0], people[1], people[2], ids[2], people[3:],
                    extensions)
    finally:
        context.close()
        approver_context.close()


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def wide(page: Page, request: pytest.FixtureRequest) -> Page:
    """The test's page at an office screen's width, then at a phone's."""
    page.set_viewport_size({"width": request.param, "height": 900})
    return page


def open_form(page: Page) -> None:
    """Sign in as the requester and open the form."""
    login(page, REQUESTER)
    page.goto("/agents/setup")
    page.wait_for_load_state()


def choose(page: Page, department_index: int, employee_id: int | None = None) -> None:
    """Choose the first branch, a department and (if given) an employee."""
    page.locator("#branch_id").select_option(index=1)
    departments = page.locator("#department_id")
    expect(departments.locator("option")).not_to_have_count(1)
    departments.select_option(index=department_index)
    employees = page.locator("#employee_id")
    expect(employees.locator("option")).not_to_have_count(1)
    if employee_id is not None:
        employees.select_option(value=str(employee_id))


def option(page: Page, employee_id: int) -> Locator:
    """The employee's option in the picker."""
    return page.locator(f"#employee_id option[value='{employee_id}']")


def test_a_change_ticket_lets_the_routing_be_chosen_by_click_and_keyboard(
    wide: Page, staff: Staff, screenshot: Screenshot
) -> None:
    page = wide
    open_form(page)
    page.get_by_label("Đổi tài khoản").check()
    choose(page, staff.department_index, staff.on_app_web)
    phone, app_web = page.get_by_label(PHONE_LABEL), page.get_by_label(APP_WEB_LABEL)
    backup = page.get_by_label("Số dự phòng")
    # Today's routing is where the change starts
    expect(app_web).to_be_checked()

    # A click on the phone routing stays, and so do the numbers typed
    page.get_by_text(PHONE_LABEL).click()
    expect(phone).to_be_checked()
    expect(page.locator("#phone-numbers")).to_be_visible()
    page.get_by_label("Số ưu tiên").fill("0911111111")
    backup.fill("0922222222")
    page.get_by_text(APP_WEB_LABEL).click()
    expect(app_web).to_be_checked()
    page.get_by_text(PHONE_LABEL).click()
    expect(backup).to_have_value("0922222222")

    # The keyboard moves between the two as well
    app_web.focus()
    page.keyboard.press("ArrowDown")
    expect(phone).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(app_web).to_be_checked()

    # An agent ringing a phone starts from it and can go back to App+Web
    page.locator("#employee_id").select_option(value=str(staff.on_phone))
    expect(phone).to_be_checked()
    expect(backup).to_have_value(re.compile(r"987654321$"))
    page.get_by_text(APP_WEB_LABEL).click()
    expect(app_web).to_be_checked()
    expect(page.locator("#phone-numbers")).to_be_hidden()
    screenshot(page, "change-back-to-app-web")


def test_the_picker_marks_and_disables_employees_for_the_chosen_kind(
    wide: Page, staff: Staff, screenshot: Screenshot
) -> None:
    page = wide
    open_form(page)
    choose(page, staff.department_index)
    with_agent, with_ticket = option(page, staff.on_phone), option(page, staff.with_ticket)
    free = option(page, staff.free[0])
    # A new account: those with an agent or an open ticket are marked and cannot be picked
    expect(with_agent).to_contain_text(f"(số {staff.extensions[staff.on_phone]})")
    expect(with_ticket).to_contain_text(f"(đang có phiếu #{staff.ticket_id})")
    expect(with_agent).to_be_disabled()
    expect(with_ticket).to_be_disabled()
    expect(free).to_be_enabled()
    screenshot(page, "picker-new")

    # A change or a revoke: only those with an agent (and no open ticket)
    for kind in ["Đổi tài khoản", "Ngừng cấp TK cloud phone"]:
        page.get_by_label(kind).check()
        expect(with_agent).to_be_enabled()
        expect(free).to_be_disabled()
        expect(with_ticket).to_be_disabled()

    # The same marks come from the server when it fills the picker itself (a fresh form)
    page.goto(page.url)
    expect(option(page, staff.on_app_web)).to_contain_text(
        f"(số {staff.extensions[staff.on_app_web]})")


def test_back_keeps_the_pickers_and_the_hint_follows_the_kind(
    wide: Page, staff: Staff, screenshot: Screenshot
) -> None:
    page = wide
    open_form(page)
    choose(page, staff.department_index, staff.free[0])
    department = page.locator("#department_id").input_value()
    hint = page.locator("#extension-policy")
    expect(hint).to_contain_text("Để trống để hệ thống chọn số trống.")

    # Away to the agent list and Back: the choices are still there
    page.goto("/agents")
    page.go_back()
    expect(page.locator("#department_id")).to_have_value(department)
    expect(page.locator("#employee_id")).to_have_value(str(staff.free[0]))
    screenshot(page, "after-back")

    # A change keeps the extension when it is left empty, and the hint says so
    page.get_by_label("Đổi tài khoản").check()
    page.locator("#employee_id").select_option(value=str(staff.on_app_web))
    expect(hint).to_contain_text("Để trống để giữ số máy lẻ hiện tại.")
    expect(page.get_by_text("Để trống để hệ thống chọn số trống.")).to_be_hidden()


def test_the_error_of_another_kind_goes_away_when_the_kind_changes(
    wide: Page, staff: Staff, screenshot: Screenshot
) -> None:
    page = wide
    login(page, REQUESTER)
    # A new account asked for an employee who has one (a link filled the form)
    page.goto("/agents/setup")
    choose(page, staff.department_index)
    page.goto(page.url.split("?")[0] + "?" + "&".join([
        f"branch_id={page.locator('#branch_id').input_value()}",
        f"department_id={page.locator('#department_id').input_value()}",
        f"employee_id={staff.on_app_web}"]))
    page.get_by_role("button", name="Hoàn thành và thoát").click()
    errors = page.locator("#employee_id-errors")
    expect(errors).to_contain_text("Nhân viên này đã có số máy lẻ")
    page.wait_for_load_state("load")  # the form's script listens once the page has loaded

    # When the requester makes it a change, the old complaint goes
    page.get_by_label("Đổi tài khoản").check()
    expect(errors).to_be_hidden()
    expect(page.locator("#employee_id")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#employee_id")).to_have_value(str(staff.on_app_web))
    screenshot(page, "error-cleared")


def test_enter_in_the_extension_box_does_not_file_the_ticket(
    wide: Page, staff: Staff
) -> None:
    page = wide
    open_form(page)
    choose(page, staff.department_index, staff.free[0])  # nothing is filed: reused
    # Any submission is noted where the next page can still read it
    page.evaluate("document.addEventListener("
                  "'submit', () => sessionStorage.setItem('sent', 'yes'), true)")
    extension = page.get_by_label("Số máy lẻ", exact=True)
    extension.fill("5432")
    extension.press("Enter")
    assert page.evaluate("sessionStorage.getItem('sent')") is None
    expect(page).to_have_url(re.compile(r"/agents/setup"))
    expect(extension).to_have_value("5432")


def test_cancelling_a_ticket_asks_first(
    wide: Page, staff: Staff, screenshot: Screenshot
) -> None:
    page = wide
    login(page, REQUESTER)
    # A ticket of the second department, one employee per width
    branch = page.request.get("/api/v1/branches").json()[0]["id"]
    department = page.request.get(f"/api/v1/branches/{branch}/departments").json()[1]["id"]
    people = page.request.get(f"/api/v1/departments/{department}/employees").json()
    width = page.viewport_size["width"] if page.viewport_size else 0
    filed = page.request.post("/api/v1/tickets", data={
        "kind": "new", "employee_id": people[WIDTHS.index(width)]["id"]})
    assert filed.status == 201, filed.text()
    ticket = int(filed.json()["id"])
    page.goto(f"/tickets/{ticket}")

    # Saying no keeps the ticket
    asked = answer_next_dialog(page, accept=False)
    page.get_by_role("button", name="Huỷ phiếu").click()
    expect(page.locator("h1")).to_contain_text("Chờ duyệt")
    assert asked == [f"Huỷ phiếu #{ticket}? Phiếu đã huỷ không mở lại được."]
    assert page.request.get(f"/api/v1/tickets/{ticket}").json()["state"] == "submitted"

    # Saying yes cancels it
    answer_next_dialog(page, accept=True)
    page.get_by_role("button", name="Huỷ phiếu").click()
    expect(page.locator("h1")).to_contain_text("Đã huỷ", timeout=ACTION_TIMEOUT_MS)
    screenshot(page, "cancelled")


def test_the_employee_search_finds_names_typed_without_diacritics(wide: Page) -> None:
    page = wide
    open_form(page)
    choose(page, 1)
    names = page.locator("#employee_id option:not([value=''])").all_inner_texts()
    marked = next(name for name in names if name != name.encode("ascii", "ignore").decode())
    family = marked.split(" ")[0]  # e.g. "Nguyễn", "Đặng", "Trần"
    plain = unicodedata.normalize("NFD", family).encode("ascii", "ignore").decode()
    plain = plain.replace("Đ", "D").replace("đ", "d").upper()
    page.locator("#employee-search").fill(plain)
    shown = page.locator("#employee_id option:not([hidden]):not([value=''])").all_inner_texts()
    assert marked in shown, (plain, shown)
    assert all(family.casefold() in name.casefold() for name in shown), (plain, shown)
