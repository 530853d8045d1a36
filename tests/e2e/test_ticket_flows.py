"""Ticket flows in the browser: an agent set up, changed and revoked; a ticket rejected.

Each test files tickets for its own employee (the module shares one server and its data).
The approver works in a second browser context, signed in before the requester files anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import APPROVER, REQUESTER, login, signed_in_page

Screenshot = Callable[..., Path]

#: Approval to "Hoàn tất": the embedded worker provisions, then the page notices and reloads.
PROVISIONED_TIMEOUT_MS = 15_000
#: A valid extension of the demo policy (4 digits starting with 5; 5000 and 5555 reserved).
FIRST_EXTENSION = "5656"
TICKET_URL = re.compile(r"/tickets/(\d+)$")


@pytest.fixture
def approver(browser: Browser, live_server: str) -> Iterator[Page]:
    """The approver, signed in on a page of a second browser context."""
    with signed_in_page(browser, live_server, APPROVER) as approver_page:
        yield approver_page


def open_setup_form(page: Page) -> None:
    """Open the "Thiết lập agent" form."""
    page.goto("/agents/setup")
    expect(page.get_by_role("heading", name="Thiết lập agent")).to_be_visible()


def pick_employee(page: Page, department: int, index: int) -> str:
    """Choose the first branch, its department number `department`, then employee number
    `index`; returns the employee's name (without the marks after it in the option)."""
    page.locator("#branch_id").select_option(index=1)
    departments = page.locator("#department_id")
    expect(departments.locator("option")).not_to_have_count(1)  # filled by the script
    departments.select_option(index=department)
    employees = page.locator("#employee_id")
    expect(employees.locator("option")).not_to_have_count(1)
    employees.select_option(index=index)
    return employees.locator("option:checked").inner_text().split(" (")[0]


def submit_and_exit(page: Page) -> str:
    """Send the form with "Hoàn thành và thoát"; returns the URL of the new ticket."""
    page.get_by_role("button", name="Hoàn thành và thoát").click()
    expect(page).to_have_url(TICKET_URL)
    expect(page.locator("h1")).to_contain_text("Chờ duyệt")
    return page.url


def ticket_id(url: str) -> int:
    """The id at the end of a ticket URL."""
    found = TICKET_URL.search(url)
    assert found is not None, url
    return int(found.group(1))


def approve_on_ticket_page(approver: Page, url: str) -> None:
    """As the approver, open the ticket and click "Duyệt"."""
    approver.goto(url)
    expect(approver.locator("h1")).to_contain_text("Chờ duyệt")
    approver.get_by_role("button", name="Duyệt", exact=True).click()
    expect(approver.locator(".alert-success")).to_contain_text(f"Đã duyệt phiếu #{ticket_id(url)}.")


def expect_done(page: Page) -> None:
    """The requester's open ticket page reloads itself until the ticket is provisioned."""
    expect(page.locator("h1")).to_contain_text("Hoàn tất", timeout=PROVISIONED_TIMEOUT_MS)
    expect(page.locator("ol.list-group")).to_contain_text("Cấu hình xong")


def test_an_agent_is_set_up_then_changed_then_revoked(
    page: Page, approver: Page, screenshot: Screenshot
) -> None:
    # Given a requester who sets up a new agent ringing a phone number, with a fixed extension
    login(page, REQUESTER)
    open_setup_form(page)
    name = pick_employee(page, department=2, index=1)
    expect(page.locator("#current-agent")).to_contain_text("chưa có tài khoản agent")
    page.get_by_label("Số máy lẻ", exact=True).fill(FIRST_EXTENSION)
    page.get_by_label("Đổ chuông trên số điện thoại chỉ định").check()
    page.get_by_label("Số ưu tiên").fill("0912345678")
    page.get_by_label("Số dự phòng").fill("0987654321")
    new_ticket = submit_and_exit(page)
    expect(page.locator("h1")).to_contain_text(f"Cấp mới TK — {name}")

    # When the approver approves it on the ticket page
    approve_on_ticket_page(approver, new_ticket)

    # Then the requester's open ticket page updates itself to done
    expect_done(page)
    screenshot(page, "new-ticket-done")

    # When the requester asks to change that employee's account
    open_setup_form(page)
    page.get_by_label("Đổi tài khoản").check()
    assert pick_employee(page, department=2, index=1) == name

    # Then the form shows the current extension and starts from the current routing
    expect(page.locator("#current-agent")).to_contain_text(f"Hiện tại: số máy lẻ {FIRST_EXTENSION}")
    expect(page.locator("#current-agent")).to_contain_text("Số ưu tiên")
    expect(page.get_by_label("Đổ chuông trên số điện thoại chỉ định")).to_be_checked()
    expect(page.locator("#phone-numbers")).to_be_visible()
    expect(page.get_by_label("Số ưu tiên")).to_have_value(re.compile(r"912345678$"))
    expect(page.get_by_label("Số dự phòng")).to_have_value(re.compile(r"987654321$"))

    # When they take the next free extension and send the change
    extension = page.get_by_label("Số máy lẻ", exact=True)
    page.get_by_role("button", name="Gợi ý số trống").click()
    expect(extension).to_have_value(re.compile(r"^5\d{3}$"))
    new_extension = extension.input_value()
    assert new_extension not in {FIRST_EXTENSION, "5000", "5555"}
    screenshot(page, "change-form-with-current-agent")
    change_ticket = submit_and_exit(page)
    expect(page.locator("h1")).to_contain_text(f"Đổi tài khoản — {name}")
    expect(page.locator("ol.list-group")).to_contain_text(FIRST_EXTENSION)
    expect(page.locator("ol.list-group")).to_contain_text(new_extension)

    # And the approver approves it
    approve_on_ticket_page(approver, change_ticket)
    expect_done(page)
    screenshot(page, "change-ticket-done")

    # Then the agent list shows the new extension, not the old one, with the same routing
    page.goto("/agents")
    row = page.locator("tbody tr").filter(has_text=name)
    expect(row).to_have_count(1)
    expect(row.locator(".font-monospace")).to_have_text(new_extension)
    expect(row).to_contain_text("Số ưu tiên")
    expect(row).to_contain_text("Đang hoạt động")
    expect(page.locator("tbody .font-monospace").filter(has_text=FIRST_EXTENSION)).to_have_count(0)

    # When the requester asks to stop the account
    open_setup_form(page)
    expect(page.locator("#extension-routing")).to_be_visible()
    page.get_by_label("Ngừng cấp TK cloud phone").check()
    assert pick_employee(page, department=2, index=1) == name
    expect(page.locator("#current-agent")).to_contain_text(f"Hiện tại: số máy lẻ {new_extension}")

    # Then the extension and routing part of the form goes away
    expect(page.locator("#extension-routing")).to_be_hidden()
    revoke_ticket = submit_and_exit(page)
    expect(page.locator("h1")).to_contain_text(f"Ngừng cấp TK cloud phone — {name}")

    # When the approver approves it
    approve_on_ticket_page(approver, revoke_ticket)
    expect_done(page)

    # Then the agent list of revoked accounts shows the employee as stopped
    page.goto("/agents?status=revoked")
    row = page.locator("tbody tr").filter(has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Đã ngừng cấp")
    screenshot(page, "revoked-agent-list")
    # And the active accounts no longer include them
    page.goto("/agents?status=active")
    expect(page.locator("tbody tr").filter(has_text=name)).to_have_count(0)


def test_a_rejected_ticket_shows_its_reason_and_no_longer_blocks_the_employee(
    page: Page, approver: Page, screenshot: Screenshot
) -> None:
    # Given a requester who files a new agent ticket for an employee
    login(page, REQUESTER)
    open_setup_form(page)
    name = pick_employee(page, department=3, index=1)
    expect(page.locator("#current-agent")).to_contain_text("chưa có tài khoản agent")
    rejected_url = submit_and_exit(page)
    rejected_id = ticket_id(rejected_url)

    # When the approver opens it from the queue
    approver.get_by_role("link", name=re.compile("Phiếu chờ duyệt")).click()
    expect(approver.get_by_role("heading", name="Phiếu chờ duyệt")).to_be_visible()
    approver.get_by_role("link", name=f"#{rejected_id}", exact=True).click()
    expect(approver).to_have_url(rejected_url)
    reason = approver.get_by_label("Lý do từ chối")

    # And clicks "Từ chối" without a reason
    approver.get_by_role("button", name="Từ chối", exact=True).click()

    # Then the page's own message (in Vietnamese, not the browser's) sits next to the
    # reason, and nothing is decided
    expect(approver.locator("#reason-errors")).to_have_text("Bắt buộc nhập trường này.")
    expect(reason).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(reason).to_have_attribute("aria-describedby", "reason-errors")
    expect(approver.locator("h1")).to_contain_text("Chờ duyệt")
    screenshot(approver, "reject-without-reason")

    # When the approver gives a reason and rejects
    why = "Phòng ban chưa được duyệt ngân sách cloud phone."
    reason.fill(why)
    approver.get_by_role("button", name="Từ chối", exact=True).click()
    expect(approver.locator(".alert-success")).to_contain_text(f"Đã từ chối phiếu #{rejected_id}.")
    expect(approver.locator("h1")).to_contain_text("Bị từ chối")

    # Then the requester's open ticket page shows the rejection and its reason in the timeline
    expect(page.locator("h1")).to_contain_text("Bị từ chối", timeout=PROVISIONED_TIMEOUT_MS)
    timeline = page.locator("ol.list-group")
    rejection = timeline.locator("li").filter(
        has=page.locator("strong").get_by_text("Từ chối", exact=True)
    )
    expect(rejection).to_have_count(1)
    expect(rejection).to_contain_text(why)
    expect(rejection).to_contain_text("Trần Văn Duyệt")
    screenshot(page, "rejected-ticket")

    # When the requester files a new ticket for the same employee
    open_setup_form(page)
    assert pick_employee(page, department=3, index=1) == name
    expect(page.locator("#current-agent")).to_contain_text("chưa có tài khoản agent")
    second_url = submit_and_exit(page)

    # Then it is accepted: the rejected ticket no longer blocks the employee
    assert ticket_id(second_url) != rejected_id
    expect(page.locator("h1")).to_contain_text(f"Cấp mới TK — {name}")

    # And while that one is open, the picker says so and offers no other ticket for them
    open_setup_form(page)
    page.locator("#branch_id").select_option(index=1)
    expect(page.locator("#department_id option")).not_to_have_count(1)
    page.locator("#department_id").select_option(index=3)
    busy = page.locator("#employee_id option").nth(1)
    expect(busy).to_have_text(f"{name} (đang có phiếu #{ticket_id(second_url)})")
    expect(busy).to_be_disabled()
