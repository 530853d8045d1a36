"""An approver sees that a change ticket asks for a new SIP password, in the queue and on the
ticket page, on a laptop and on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.browser import (
    APPROVER,
    REQUESTER,
    employees_to_pick,
    expect_fits,
    login,
    signed_in_page,
)

Screenshot = Callable[..., Path]

TICKET_URL = re.compile(r"/tickets/(\d+)$")
#: How the change reads where a person decides on it (templates/_tickets.html).
RESET = "Cấp mật khẩu SIP mới"
RESET_NOTE = "thiết bị đang đăng nhập phải đăng nhập lại"


def queue_item(page: Page, ticket_id: int) -> Locator:
    """The queue's entry for a ticket: the nearest element holding both its box and its link
    (whatever shape the queue takes on a phone)."""
    box = page.get_by_label(f"Chọn phiếu #{ticket_id}", exact=True)
    return box.locator(f"xpath=ancestor::*[.//a[normalize-space()='#{ticket_id}']][1]")


def expect_password_reset_only(changes: Locator) -> None:
    """A before/after table with the one SIP password row, saying what happens."""
    expect(changes).to_have_count(1)
    rows = changes.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("rowheader")).to_have_text("Mật khẩu SIP")
    cells = rows.get_by_role("cell")
    expect(cells).to_have_count(2)
    expect(cells.nth(0)).to_have_text("Mật khẩu hiện tại")
    expect(cells.nth(1)).to_contain_text(RESET)
    expect(cells.nth(1)).to_contain_text(RESET_NOTE)
    expect(changes).not_to_contain_text("Số máy lẻ")
    expect(changes).not_to_contain_text("Định tuyến")


def test_the_approver_sees_a_new_sip_password_is_asked_for(
    page: Page, viewport: dict[str, int], browser: Browser, live_server: str,
    screenshot: Screenshot,
) -> None:
    # Given a requester who asks, on the setup form, only for a new SIP password for an agent
    login(page, REQUESTER)
    person = employees_to_pick(page, with_agent=True)[0]
    assert person.agent is not None
    page.goto("/agents/setup")
    expect_fits(page)
    page.get_by_label("Đổi tài khoản").check()
    page.locator("#branch_id").select_option(str(person.branch_id))
    page.locator(f"#department_id option[value='{person.department_id}']").wait_for(
        state="attached")
    page.locator("#department_id").select_option(str(person.department_id))
    page.locator(f"#employee_id option[value='{person.id}']").wait_for(state="attached")
    page.locator("#employee_id").select_option(str(person.id))
    expect(page.locator("#current-agent")).to_contain_text(
        f"Hiện tại: số máy lẻ {person.agent['extension']}")
    page.get_by_label(RESET).check()
    page.get_by_role("button", name="Hoàn thành và thoát").click()
    expect(page).to_have_url(TICKET_URL)
    found = TICKET_URL.search(page.url)
    assert found is not None
    ticket = int(found.group(1))
    expect(page.locator("h1")).to_contain_text(f"Đổi tài khoản — {person.full_name}")

    with signed_in_page(browser, live_server, APPROVER, viewport) as approver:
        # When the approver opens the queue
        approver.goto("/approvals")
        expect(approver.get_by_role("heading", name="Phiếu chờ duyệt")).to_be_visible()
        expect_fits(approver)

        # Then the ticket's entry says a new SIP password is asked for, and nothing else
        item = queue_item(approver, ticket)
        expect(item).to_contain_text(person.full_name)
        expect_password_reset_only(item.locator("table"))
        screenshot(approver, "queue", full_page=False)

        # And so does the ticket page, where the filing shows it in the timeline
        item.get_by_role("link", name=f"#{ticket}", exact=True).click()
        expect(approver).to_have_url(re.compile(rf"/tickets/{ticket}$"))
        expect(approver.locator("h1")).to_contain_text("Chờ duyệt")
        expect_fits(approver)
        expect_password_reset_only(approver.locator("ol.list-group table"))
        # The extension and the routing stay as they are
        expect(approver.locator("dd.ticket-extension")).to_have_text(person.agent["extension"])
        screenshot(approver, "ticket")

    # The requester's own ticket page says the same
    expect_password_reset_only(page.locator("ol.list-group table"))
    expect_fits(page)
