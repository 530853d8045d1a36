"""Every main page fits a laptop and a phone; axe-core finds no serious violation in vi or en."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.support.accessibility import HEIGHT, WIDTHS, blocking_violations, switch_language
from tests.support.browser import (
    ADMIN,
    APPROVER,
    REQUESTER,
    api_login,
    free_employee,
    overflow_problem,
)

Screenshot = Callable[..., Path]

#: The main pages, by the demo user who sees them; `{agent}` and `{ticket}` are the first listed.
PAGES = {
    REQUESTER: [
        "/agents", "/agents/{agent}", "/agents/setup", "/tickets", "/tickets/{ticket}",
        "/notifications", "/my/credentials", "/calling/check",
    ],
    APPROVER: ["/approvals"],
    ADMIN: [
        "/admin/users", "/admin/policy", "/admin/structure", "/admin/employees",
        "/admin/employees/import", "/admin/calling", "/admin/calling/hotlines",
        "/admin/calling/assignments", "/admin/calling/roles", "/admin/calling/hours",
        "/admin/calling/changes", "/admin/emails",
    ],
}
#: Free text as people paste it: a link with no place to break.
LONG_WORD = "https://drive.demo.vn/" + "thongtincauhinhtongdaichinhanhhanoi_" * 8


def first_link(page: Page, listing: str, pattern: str) -> str:
    """The id in the first link of `listing` whose href matches `pattern` (one number group)."""
    page.goto(listing)
    for href in page.locator("main a[href]").evaluate_all("links => links.map(a => a.pathname)"):
        match = re.fullmatch(pattern, href)
        if match:
            return match.group(1)
    raise AssertionError(f"no link matching {pattern} on {listing}")


def ticket_with_long_details(page: Page) -> str:
    """A ticket the signed-in requester files whose details are one 300-character unbroken word."""
    filed = page.request.post("/api/v1/tickets", data={
        "kind": "new", "employee_id": free_employee(page), "details": LONG_WORD})
    assert filed.status == 201, filed.text()
    return str(filed.json()["id"])


def fit_and_axe(page: Page, screenshot: Screenshot, name: str) -> list[str]:
    """The page as it is now (a form's answer cannot be opened again): axe at laptop width,
    whether it fits both widths, and axe again at phone width (tables scroll in their own
    box there, which must be focusable)."""
    problems = blocking_violations(page)
    for width_name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": HEIGHT})
        wide = overflow_problem(page)
        if wide:
            problems.append(f"{width_name}: {wide}")
        screenshot(page, f"{name}-{width_name}")
        if width_name == "phone":
            problems.extend(blocking_violations(page))
    page.set_viewport_size({"width": WIDTHS["laptop"], "height": HEIGHT})
    return problems


def check_pages(page: Page, screenshot: Screenshot, paths: list[str], language: str) -> list[str]:
    """Open each path at both widths; return the overflow and axe problems found."""
    problems: list[str] = []
    for path in paths:
        page.set_viewport_size({"width": WIDTHS["laptop"], "height": HEIGHT})
        page.goto(path)
        problems.extend(fit_and_axe(page, screenshot, f"{language}{path.replace('/', '-')}"))
    return problems


@pytest.mark.parametrize("language", ["vi", "en"])
def test_sign_in_page_fits_and_is_accessible(
    page: Page, screenshot: Screenshot, language: str
) -> None:
    page.goto("/login")
    switch_language(page, language)
    problems = check_pages(page, screenshot, ["/login"], language)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("email", [REQUESTER, APPROVER, ADMIN])
def test_main_pages_fit_and_are_accessible(page: Page, screenshot: Screenshot, email: str) -> None:
    api_login(page, email)
    paths = PAGES[email]
    if email == REQUESTER:
        agent = first_link(page, "/agents", r"/agents/(\d+)")
        ticket = ticket_with_long_details(page)
        paths = [path.format(agent=agent, ticket=ticket) for path in paths]
    problems: list[str] = []
    for language in ("vi", "en"):
        page.goto(paths[0])
        switch_language(page, language)
        problems.extend(check_pages(page, screenshot, paths, language))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_device_setup_pages_fit_and_are_accessible(
    page: Page, screenshot: Screenshot, language: str
) -> None:
    api_login(page, ADMIN)
    agent = first_link(page, "/agents", r"/agents/(\d+)")
    page.goto(f"/agents/{agent}")
    switch_language(page, language)
    page.goto(f"/agents/{agent}")
    button = "Cài đặt điện thoại bàn" if language == "vi" else "Set up a desk phone"
    page.get_by_role("button", name=button).click()
    # The link with its QR code, as the admin sees it
    assert page.locator("#device-link-qr").get_attribute("src", timeout=5_000).startswith(
        "data:image/png")
    problems = fit_and_axe(page, screenshot, f"{language}-device-link")
    address = page.locator("#device-link-address").inner_text()
    # The link opened in a browser: the page that says to open it in the phone app
    page.goto("/provision/" + address.rsplit("/provision/", 1)[1])
    problems.extend(fit_and_axe(page, screenshot, f"{language}-device-open"))
    assert not problems, "\n".join(problems)
