"""Forms that hold with JavaScript off: cancelling a ticket asks first, and Enter in a box of
the setup form files nothing (only its buttons do). With JavaScript on, cancelling asks in a
dialog and sends the answer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import (
    ACTION_TIMEOUT_MS,
    REQUESTER,
    answer_next_dialog,
    api_login,
    free_employee,
    login,
)

QUESTION = "Huỷ phiếu #{id}? Phiếu đã huỷ không mở lại được."


@pytest.fixture
def scriptless(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a browser context with JavaScript turned off, signed in as the requester."""
    context = browser.new_context(base_url=live_server, locale="vi-VN",
                                  java_script_enabled=False,
                                  viewport={"width": 1366, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    login(page, REQUESTER)
    yield page
    context.close()


def file_ticket(page: Page) -> int:
    """A new-account ticket for a free employee, filed through the API; its id."""
    api_login(page, REQUESTER)
    filed = page.request.post("/api/v1/tickets", data={
        "kind": "new", "employee_id": free_employee(page)})
    assert filed.status == 201, filed.text()
    return int(filed.json()["id"])


def state(page: Page, ticket: int) -> str:
    """The ticket's state, as the API tells it."""
    return str(page.request.get(f"/api/v1/tickets/{ticket}").json()["state"])


def my_ticket_count(page: Page) -> int:
    """How many tickets the signed-in requester has filed."""
    return int(page.request.get("/api/v1/tickets?mine=true").json()["total"])


def test_without_script_cancelling_asks_on_the_page_first(scriptless: Page) -> None:
    page = scriptless
    ticket = file_ticket(page)
    page.goto(f"/tickets/{ticket}")
    # The button only leads to the question: nothing is cancelled yet
    page.get_by_role("button", name="Huỷ phiếu").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket}\?confirm=cancel#cancel-ticket$"))
    question = page.locator("#cancel-ticket [role=alert]")
    expect(question).to_contain_text(QUESTION.format(id=ticket))
    assert state(page, ticket) == "submitted"
    # "No" keeps it
    question.get_by_role("link", name="Không, giữ phiếu").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket}$"))
    expect(page.locator("h1")).to_contain_text("Chờ duyệt")
    assert state(page, ticket) == "submitted"
    # "Yes" cancels it
    page.get_by_role("button", name="Huỷ phiếu").click()
    page.get_by_role("button", name="Có, huỷ phiếu").click()
    expect(page.locator("h1")).to_contain_text("Đã huỷ")
    assert state(page, ticket) == "cancelled"


def test_with_script_cancelling_asks_in_a_dialog_and_sends_the_answer(page: Page) -> None:
    login(page, REQUESTER)
    ticket = file_ticket(page)
    page.goto(f"/tickets/{ticket}")
    asked = answer_next_dialog(page, accept=False)
    page.get_by_role("button", name="Huỷ phiếu").click()
    assert asked == [QUESTION.format(id=ticket)]
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket}$"))
    assert state(page, ticket) == "submitted"
    # Yes in the dialog is the answer the server needs: cancelled at once, not asked again
    answer_next_dialog(page, accept=True)
    page.get_by_role("button", name="Huỷ phiếu").click()
    expect(page.locator("h1")).to_contain_text("Đã huỷ")
    expect(page.locator("#cancel-ticket")).to_have_count(0)
    assert state(page, ticket) == "cancelled"


def test_without_script_enter_in_the_setup_form_files_nothing_but_the_button_does(
    scriptless: Page,
) -> None:
    page = scriptless
    api_login(page, REQUESTER)
    employee = free_employee(page)
    branch = page.request.get("/api/v1/branches").json()[0]["id"]
    department = page.request.get(f"/api/v1/branches/{branch}/departments").json()[0]["id"]
    before = my_ticket_count(page)
    address = f"/agents/setup?branch_id={branch}&department_id={department}"
    page.goto(address)
    page.locator("#employee_id").select_option(value=str(employee))
    extension = page.get_by_label("Số máy lẻ", exact=True)
    extension.fill("5432")
    extension.press("Enter")
    search = page.get_by_label("Tìm nhân viên")
    search.fill("a")
    search.press("Enter")
    # Still the same form, as filled in, and nothing filed
    expect(page).to_have_url(re.compile(re.escape(address) + "$"))
    expect(extension).to_have_value("5432")
    expect(page.locator("#employee_id")).to_have_value(str(employee))
    assert my_ticket_count(page) == before
    # Pressing the real button (by keyboard) files it
    extension.fill("")
    page.get_by_role("button", name="Hoàn thành và thoát").press("Enter")
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.locator("h1")).to_contain_text("Chờ duyệt")
    assert my_ticket_count(page) == before + 1
