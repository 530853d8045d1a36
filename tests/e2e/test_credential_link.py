"""SIP passwords in the browser: the one-time link shows the password once, in Vietnamese and
in English; the setup form offers a new password only on a change ticket.

Each test provisions its own employee's account (the module shares one server and its data):
the requester files the ticket and the approver approves it through the JSON API, then the
admin makes a one-time link on the agent's page, as they would to hand it over. The link
carries its token after "#" (`/credentials/open#<token>`); the page's script posts it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from tests.support.browser import (
    REQUESTER,
    login,
)
from tests.support.credential_links import Screenshot, Staff, open_link

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
