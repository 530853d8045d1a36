"""SIP passwords in the browser: the one-time link shows the password once, in Vietnamese and
in English; the setup form offers a new password only on a change ticket.

Each test provisions its own employee's account (the module shares one server and its data):
the requester files the ticket and the approver approves it through the JSON API, then the
admin makes a one-time link on the agent's page, as they would to hand it over. The link
carries its token after "#" (`/credentials/open#<token>`); the page's script posts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import APIRequestContext, Browser, BrowserContext, Page, Request, expect

from tests.e2e.conftest import ACTION_TIMEOUT_MS, ADMIN, APPROVER, DEMO_PASSWORD, REQUESTER, login
from tests.processes import wait_for

Screenshot = Callable[..., Path]

#: Approval to "provisioned": the embedded worker usually needs well under a second.
PROVISIONED_TIMEOUT_SECONDS = 15.0
#: A generated SIP password (secrets.token_urlsafe(18)).
PASSWORD = re.compile(r"^[A-Za-z0-9_-]{24}$")

#: What the link page says, by language.
TEXTS = {
    "vi": {"title": "Thông tin đăng nhập SIP", "ready": "Tài khoản SIP của {name} đã sẵn sàng.",
           "show": "Hiện mật khẩu", "save": "Hãy lưu mật khẩu này ngay",
           "seen": "Mật khẩu đã được xem lúc"},
    "en": {"title": "SIP sign-in details", "ready": "The SIP account of {name} is ready.",
           "show": "Show the password", "save": "Save this password now",
           "seen": "The password was seen at"},
}


@dataclass(frozen=True)
class Account:
    """A provisioned agent: its employee, SIP username and ids."""

    employee_id: int
    employee_name: str
    branch_id: int
    department_id: int
    agent_id: int
    sip_username: str


class Staff:
    """The demo requester, approver and admin at work, in a browser context of their own."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.page = context.new_page()
        self.api: APIRequestContext = context.request

    def sign_in(self, email: str) -> None:
        """Sign in through the JSON API (the session cookie stays in this context)."""
        response = self.api.post("/api/v1/session",
                                 data={"email": email, "password": DEMO_PASSWORD})
        assert response.status == 200, f"signing in as {email}: {response.text()}"

    def get(self, path: str) -> Any:
        response = self.api.get(path)
        assert response.status == 200, f"GET {path}: {response.status} {response.text()}"
        return response.json()

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        response = self.api.post(path, data=body)
        assert response.status == status, f"POST {path}: {response.status} {response.text()}"
        return response.json()

    def employee_without_agent(self) -> tuple[int, int, dict[str, Any]]:
        """The first employee of the first branch with no agent: branch, department, employee."""
        branch = self.get("/api/v1/branches")[0]["id"]
        for department in self.get(f"/api/v1/branches/{branch}/departments"):
            for employee in self.get(f"/api/v1/departments/{department['id']}/employees"):
                if employee["agent"] is None:
                    return branch, department["id"], employee
        raise AssertionError("the demo data has no employee without an agent left")

    def approve_and_wait(self, ticket_id: int) -> dict[str, Any]:
        """As the approver, approve the ticket; wait until the worker provisioned it."""
        self.sign_in(APPROVER)
        self.post(f"/api/v1/tickets/{ticket_id}/approve", {})

        def provisioned() -> dict[str, Any] | None:
            ticket = self.get(f"/api/v1/tickets/{ticket_id}")
            assert ticket["state"] not in {"failed", "rejected", "cancelled"}, ticket
            return ticket if ticket["state"] == "provisioned" else None

        return wait_for(provisioned, f"ticket #{ticket_id} to be provisioned",
                        timeout=PROVISIONED_TIMEOUT_SECONDS)

    def new_account(self) -> Account:
        """A new-account ticket for a fresh employee, filed, approved and provisioned."""
        self.sign_in(REQUESTER)
        branch, department, employee = self.employee_without_agent()
        ticket = self.post("/api/v1/tickets", {"kind": "new", "employee_id": employee["id"]},
                           status=201)
        done = self.approve_and_wait(ticket["id"])
        agent = self.get(f"/api/v1/agents/{done['agent_id']}")
        return Account(employee["id"], employee["full_name"], branch, department, agent["id"],
                       agent["sip_username"])

    def hand_over(self, account: Account, screenshot: Screenshot | None = None) -> str:
        """As the admin, make a one-time link on the agent's page; returns the link."""
        self.sign_in(ADMIN)
        self.page.goto(f"/agents/{account.agent_id}")
        expect(self.page.locator("#credential-state")).to_contain_text("Chờ nhân viên xem")
        self.page.get_by_role("button", name="Tạo liên kết một lần").click()
        link = self.page.locator("#handover-link")
        expect(link).to_have_text(re.compile(r"^\s*http://\S+/credentials/open#[\w-]{40,}\s*$"))
        if screenshot is not None:
            screenshot(self.page, "admin-hand-over")
        return link.inner_text().strip()


@pytest.fixture
def staff(browser: Browser, live_server: str) -> Iterator[Staff]:
    """The staff's own browser context (the `page` stays the employee's)."""
    context = browser.new_context(base_url=live_server, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield Staff(context)
    finally:
        context.close()


def open_link(page: Page, link: str) -> None:
    """Open a one-time link in this tab and wait for the page its posted token leads to.

    The browser loads /credentials/open (without the part after "#") and its script posts the
    token; in a tab already at /credentials/open only the part after "#" changes, which loads
    nothing, and the script posts it then.
    """
    # Marks the page shown until now, so that the wait below is for a page loaded since.
    page.evaluate("document.documentElement.dataset.before = 'yes'")
    page.goto(link)
    expect(page.locator("html[data-before]")).to_have_count(0)
    # Not the form still waiting for its script (pages a posted token leads to hide theirs)
    expect(page.locator("#credential-link")).to_be_hidden()
    assert "#" not in page.url and link.split("#", 1)[1] not in page.url, page.url


def requests_of(context: BrowserContext) -> list[Request]:
    """A list that collects every request of the context's pages (tabs) from now on."""
    requests: list[Request] = []
    context.on("request", lambda request: requests.append(request))
    return requests


def token_sent_in_the_clear(requests: list[Request], token: str) -> list[str]:
    """The requests whose address or Referer header holds `token`: what a log would keep."""
    return [f"{request.method} {request.url} (Referer {request.all_headers().get('referer')})"
            for request in requests
            if token in request.url or token in request.all_headers().get("referer", "")]


#: What Chromium logs for a page answered 409, as a used link is meant to be: not a script error.
USED_LINK_STATUS = "the server responded with a status of 409 (CONFLICT)"


def script_errors(page: Page) -> list[str]:
    """A list that collects the page's uncaught errors and console errors from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and USED_LINK_STATUS not in message.text else None)
    return errors


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_one_time_link_shows_the_password_once(
    page: Page, browser: Browser, staff: Staff, screenshot: Screenshot, language: str
) -> None:
    # Given an employee whose new account's password the admin hands over as a link
    account = staff.new_account()
    link = staff.hand_over(account, screenshot if language == "vi" else None)
    token = link.split("#", 1)[1]
    texts = TEXTS[language]
    errors = script_errors(page)
    requests = requests_of(page.context)

    # When the employee opens it
    open_link(page, link)
    if language == "en":
        # The switch loads /credentials/open again, without the token (only ever after "#",
        # which the script removed), so the employee opens the link again: in English now.
        page.get_by_role("button", name="English").click()
        expect(page).to_have_url(re.compile(r"/credentials/open$"))
        expect(page.locator("h1")).to_have_text(texts["title"])
        open_link(page, link)
    expect(page.locator("h1")).to_have_text(texts["title"])
    expect(page.get_by_text(texts["ready"].format(name=account.employee_name))).to_be_visible()
    # Then opening it again (as a mail scanner would) does not use it up: the link opened
    # again in this tab (reloading a posted page would post it again, behind a browser prompt)
    open_link(page, link)
    expect(page.get_by_text(texts["ready"].format(name=account.employee_name))).to_be_visible()
    show = page.get_by_role("button", name=texts["show"])
    expect(show).to_be_visible()
    expect(page.locator("#sip-password")).to_have_count(0)
    screenshot(page, f"{language}-link-ready")

    # And a second tab has the same link open, with its button
    second = page.context.new_page()
    second_errors = script_errors(second)
    open_link(second, link)
    expect(second.get_by_role("button", name=texts["show"])).to_be_visible()

    # When the employee presses the button
    show.click()

    # Then the account, the domain and the password are shown
    expect(page.get_by_text(texts["save"])).to_be_visible()
    expect(page.locator("#sip-username")).to_have_text(account.sip_username)
    expect(page.locator("#sip-domain")).not_to_be_empty()
    expect(page.locator("#sip-password")).to_have_text(PASSWORD)
    password = page.locator("#sip-password").inner_text()
    screenshot(page, f"{language}-password-shown")

    # And pressing the button again in the other tab shows only when it was seen
    second.get_by_role("button", name=texts["show"]).click()
    expect(second.locator(".alert-warning")).to_contain_text(texts["seen"])
    expect(second.locator("#sip-password")).to_have_count(0)
    assert password not in second.content()
    screenshot(second, f"{language}-posted-again")

    # And opening the link again says it was used, without the password
    open_link(page, link)
    expect(page.locator(".alert-warning")).to_contain_text(texts["seen"])
    expect(page.get_by_role("button", name=texts["show"])).to_have_count(0)
    assert password not in page.content()
    screenshot(page, f"{language}-link-used")
    assert errors == [] and second_errors == [], errors + second_errors

    # And the token reached the server only in the bodies of the posted forms: no address
    # the browser asked for, nor any Referer, held it (so no access log or proxy log has it)
    assert token_sent_in_the_clear(requests, token) == []
    posted = {urlsplit(request.url).path for request in requests
              if request.method == "POST" and token in (request.post_data or "")}
    assert posted == {"/credentials/open", "/credentials/reveal"}, posted
    assert any(request.all_headers().get("referer") for request in requests)  # checked, sent


def test_the_setup_form_offers_a_new_password_only_on_a_change_ticket(
    page: Page, staff: Staff, screenshot: Screenshot
) -> None:
    # Given an employee with an account and the link to its first password
    account = staff.new_account()
    first_link = staff.hand_over(account)
    errors = script_errors(page)

    # When the requester opens the setup form
    login(page, REQUESTER)
    page.goto("/agents/setup")
    expect(page.get_by_role("heading", name="Thiết lập agent")).to_be_visible()
    page.wait_for_load_state()  # the form's script shows and hides fields from then on
    box = page.get_by_label("Cấp mật khẩu SIP mới")

    # Then the new-password box is hidden for a new account and for a revoke
    expect(page.get_by_label("Cấp mới TK")).to_be_checked()
    expect(box).to_be_hidden()
    page.get_by_label("Ngừng cấp TK cloud phone").check()
    expect(box).to_be_hidden()
    # And shown for a change
    page.get_by_label("Đổi tài khoản").check()
    expect(page.locator("#reset-password")).to_be_visible()
    expect(box).to_be_visible()
    page.get_by_label("Cấp mới TK").check()
    expect(box).to_be_hidden()

    # When they ask only for a new password for the employee (a change: only employees with
    # an account can be picked)
    page.get_by_label("Đổi tài khoản").check()
    page.locator("#branch_id").select_option(str(account.branch_id))
    departments = page.locator("#department_id")
    expect(departments.locator(f"option[value='{account.department_id}']")).to_have_count(1)
    departments.select_option(str(account.department_id))
    employees = page.locator("#employee_id")
    expect(employees.locator(f"option[value='{account.employee_id}']")).to_have_count(1)
    employees.select_option(str(account.employee_id))
    expect(page.locator("#current-agent")).to_contain_text("Hiện tại: số máy lẻ")
    box.check()
    screenshot(page, "change-with-new-password")
    page.get_by_role("button", name="Hoàn thành và thoát").click()

    # Then the change ticket is filed
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.locator("h1")).to_contain_text(f"Đổi tài khoản — {account.employee_name}")
    ticket_id = int(page.url.rsplit("/", 1)[1])

    # And once it is approved, the first link says its password was replaced
    staff.approve_and_wait(ticket_id)
    open_link(page, first_link)
    expect(page.locator(".alert-warning")).to_have_text(
        "Mật khẩu này đã được thay bằng một mật khẩu mới hơn.")
    # And the new password waits to be handed over (its link opened in the same tab)
    new_link = staff.hand_over(account)
    open_link(page, new_link)
    page.get_by_role("button", name="Hiện mật khẩu").click()
    expect(page.locator("#sip-password")).to_have_text(PASSWORD)
    screenshot(page, "new-password-shown")
    assert errors == [], errors
