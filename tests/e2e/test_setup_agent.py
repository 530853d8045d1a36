"""A requester sets up agents in the browser; once approved they show in the agent list."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.browser import APPROVER, REQUESTER, login, pick_employee

Screenshot = Callable[..., Path]


def approve_from_the_queue(
    browser: Browser, base_url: str, screenshot: Screenshot, names: list[str]
) -> int:
    """As the approver, tick the waiting tickets of these employees in the queue (the demo's
    own waiting tickets stay) and approve them at once; returns how many were ticked."""
    context = browser.new_context(base_url=base_url, locale="vi-VN")
    try:
        approver = context.new_page()
        login(approver, APPROVER)
        approver.get_by_role("link", name=re.compile("Phiếu chờ duyệt")).click()
        rows = approver.locator("tbody tr").filter(
            has_text=re.compile("|".join(re.escape(name) for name in names)))
        # count() does not wait: let the queue replace the page the link was clicked on.
        expect(approver.get_by_role("heading", name="Phiếu chờ duyệt")).to_be_visible()
        expect(rows).to_have_count(len(names))
        boxes = rows.locator("input[name='ticket_ids']")
        waiting = boxes.count()
        for box in boxes.all():
            box.check()
        screenshot(approver, "approval-queue")
        approver.get_by_role("button", name="Duyệt các phiếu đã chọn").click()
        expect(approver.locator(".alert-success")).to_contain_text("Đã duyệt")
        for name in names:
            expect(approver.locator("tbody tr").filter(has_text=name)).to_have_count(0)
        return waiting
    finally:
        context.close()


def test_a_requester_sets_up_two_agents_and_both_become_active(
    page: Page, browser: Browser, live_server: str, screenshot: Screenshot
) -> None:
    # Given a requester on the agent list
    login(page, REQUESTER)
    page.get_by_role("link", name="THIẾT LẬP AGENT").click()
    expect(page.get_by_role("heading", name="Thiết lập agent")).to_be_visible()

    # When they file a first agent with a suggested number, and "Complete and fill new"
    first = pick_employee(page, 1)
    expect(page.locator("#current-agent")).to_contain_text("chưa có tài khoản agent")
    page.get_by_role("button", name="Gợi ý số trống").click()
    expect(page.get_by_label("Số máy lẻ", exact=True)).to_have_value(re.compile(r"^5\d{3}$"))
    suggested = page.get_by_label("Số máy lẻ", exact=True).input_value()
    expect(page.locator("#phone-numbers")).to_be_hidden()
    screenshot(page, "setup-form")
    page.get_by_role("button", name="Hoàn thành và điền mới").click()

    # Then a fresh form comes back, keeping the branch and department
    expect(page.locator(".alert-success")).to_contain_text(first)
    assert page.locator("#branch_id").input_value() != ""
    assert page.locator("#department_id").input_value() != ""
    assert page.get_by_label("Số máy lẻ", exact=True).input_value() == ""

    # When they file a second one, ringing a phone number with a backup, and "Complete and exit"
    second = pick_employee(page, 2)
    page.get_by_label("Đổ chuông trên số điện thoại chỉ định").check()
    expect(page.locator("#phone-numbers")).to_be_visible()
    page.get_by_label("Số ưu tiên").fill("0912345678")
    page.get_by_label("Số dự phòng").fill("0987654321")
    page.get_by_role("button", name="Hoàn thành và thoát").click()

    # Then the browser shows the new ticket, waiting for approval
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.locator("h1")).to_contain_text("Chờ duyệt")
    screenshot(page, "ticket-submitted")

    # When the approver approves both from the queue
    names = [first.split(" — ")[0], second.split(" — ")[0]]
    assert approve_from_the_queue(browser, live_server, screenshot, names) == 2

    # Then the open ticket page updates itself to done
    expect(page.locator("h1")).to_contain_text("Hoàn tất", timeout=15_000)
    expect(page.locator("ol.list-group")).to_contain_text("Cấu hình xong")

    # Then the agent list shows both as active, with their extensions and routing (beside the
    # demo's own agents)
    def listed() -> Locator:
        return page.locator("tbody tr").filter(
            has_text=re.compile("|".join(re.escape(name) for name in names)))

    for _ in range(50):  # the embedded worker provisions them within moments
        page.goto("/agents?status=active")
        if listed().count() == 2:
            break
        page.wait_for_timeout(100)
    rows = listed()
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=names[0])).to_contain_text(suggested)
    expect(rows.filter(has_text=names[1])).to_contain_text("0912 345 678")
    screenshot(page, "agent-list")


def test_a_wrong_extension_comes_back_next_to_its_field_in_english(
    page: Page, screenshot: Screenshot
) -> None:
    login(page, REQUESTER)
    page.get_by_role("button", name="English").click()
    page.goto("/agents/setup")
    pick_employee(page, 1)  # refused, so nobody is used up
    page.get_by_label("Extension", exact=True).fill("0123")
    # Said at once, before anything is sent
    expect(page.locator("#extension-live")).to_contain_text("cannot start with 0")
    page.get_by_label("Details").fill("kept after the error")
    page.get_by_role("button", name="Complete and exit").click()
    expect(page.locator("#extension-errors")).to_contain_text("cannot start with 0")
    expect(page.get_by_label("Details")).to_have_value("kept after the error")
    screenshot(page, "setup-error-en")
