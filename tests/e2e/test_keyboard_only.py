"""A ticket is filed and approved with the keyboard alone: no pointer, no scripted form filling."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.support.browser import ACTION_TIMEOUT_MS, APPROVER, DEMO_PASSWORD, REQUESTER

Screenshot = Callable[..., Path]

#: More Tab presses than any page here has stops before the one wanted.
MAX_TABS = 80
TICKET_URL = re.compile(r"/tickets/(\d+)$")


def focused(page: Page, selector: str) -> bool:
    """Whether the element with focus matches the CSS `selector`."""
    return bool(page.evaluate("s => !!document.activeElement?.matches(s)", selector))


def tab_to(page: Page, selector: str, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the element matching `selector` has focus."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        if focused(page, selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector} on {page.url}")


def sign_in_by_keyboard(page: Page, email: str) -> None:
    """Sign in at /login by typing: Tab to the email, type, Tab, type the password, Enter."""
    page.goto("/login")
    tab_to(page, "input[name='email']")
    page.keyboard.type(email)
    tab_to(page, "input[name='password']")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/login"))


def choose_next_option(page: Page, selector: str) -> None:
    """Tab to the select `selector` once the script has filled it, then ArrowDown once."""
    expect(page.locator(f"{selector} option")).not_to_have_count(1)
    tab_to(page, selector)
    page.keyboard.press("ArrowDown")


def test_a_ticket_is_filed_and_approved_with_the_keyboard_only(
    page: Page, browser: Browser, live_server: str, screenshot: Screenshot
) -> None:
    sign_in_by_keyboard(page, REQUESTER)
    page.goto("/agents/setup")
    # "New account" is the default kind; the first branch, its first department, then the first
    # employee with neither an agent nor an open ticket (the list marks the others).
    choose_next_option(page, "#branch_id")
    choose_next_option(page, "#department_id")
    choose_next_option(page, "#employee_id")
    employees = page.locator("#employee_id")
    while "(" in employees.locator("option:checked").inner_text():
        page.keyboard.press("ArrowDown")
    employee = employees.locator("option:checked").inner_text().strip()
    # The extension is left empty (the system picks a free one); routing stays App and Web.
    tab_to(page, "#submit_new")
    tab_to(page, "#submit_exit", backwards=True)
    screenshot(page, "setup-form-by-keyboard", full_page=False)
    page.keyboard.press("Enter")
    expect(page).to_have_url(TICKET_URL)
    expect(page.locator("h1")).to_contain_text("Chờ duyệt")
    ticket_url = page.url

    context = browser.new_context(base_url=live_server, locale="vi-VN")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        approver = context.new_page()
        sign_in_by_keyboard(approver, APPROVER)
        approver.goto(ticket_url)
        expect(approver.locator("main")).to_contain_text(employee)
        tab_to(approver, "form[action$='/approve'] button[type='submit']")
        approver.keyboard.press("Space")
        expect(approver.locator("h1")).not_to_contain_text("Chờ duyệt")
        done = re.compile("Đã duyệt|Đang cấu hình|Hoàn tất")
        expect(approver.locator("h1")).to_contain_text(done)
        screenshot(approver, "approved-by-keyboard", full_page=False)
    finally:
        context.close()
