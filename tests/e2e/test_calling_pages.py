"""The calling-function pages open in the browser without a script error, in both languages:
the admin section, an agent's calling section and the call check (filled in and sent).

One agent of the demo's "Kinh doanh" department (profile Telesales) is provisioned once per
module through the JSON API; the pages themselves only read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import APIRequestContext, Browser, Page, expect

from tests.support.browser import ADMIN, APPROVER, DEMO_PASSWORD, REQUESTER, login
from tests.support.processes import wait_for

Screenshot = Callable[..., Path]

#: Approval to "provisioned": the embedded worker usually needs well under a second.
PROVISIONED_TIMEOUT_SECONDS = 15.0

#: Each admin page of the section and a text it shows, in Vietnamese then in English.
ADMIN_PAGES = [
    ("/admin/calling", "Thêm hồ sơ gọi", "Add a calling profile"),
    ("/admin/calling/profiles/new", "Loại số được gọi", "Number classes allowed"),
    ("/admin/calling/hotlines", "Thêm hotline", "Add a hotline"),
    ("/admin/calling/assignments", "Gán, thay hoặc bỏ hồ sơ",
     "Assign, replace or remove a profile"),
    ("/admin/calling/roles", "Thêm vai trò", "Add a job role"),
    ("/admin/calling/hours", "Tuần làm việc", "Working week"),
    ("/admin/calling/changes", "Nhật ký thay đổi", "Change log"),
]
#: What the agent's section and the check say, by language.
TEXTS = {
    "vi": {"section": "Chức năng gọi", "source": "Phòng ban Kinh doanh — hồ sơ Telesales",
           "mobile": "di động trong nước", "abroad": "Không được gọi",
           "class_refused": "Hồ sơ gọi không cho gọi loại số này.", "check": "Kiểm tra"},
    "en": {"section": "Calling functions",
           "source": "Department Kinh doanh — profile Telesales",
           "mobile": "domestic mobile", "abroad": "Not allowed",
           "class_refused": "The calling profile does not allow this kind of number.",
           "check": "Check"},
}


@dataclass(frozen=True)
class SalesAgent:
    """The agent provisioned for the module."""

    agent_id: int
    extension: str


def _json(api: APIRequestContext, method: str, path: str, body: dict[str, Any] | None = None,
          status: int = 200) -> Any:
    """Call the JSON API; the body of the expected answer."""
    response = api.fetch(path, method=method, data=body)
    assert response.status == status, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


@pytest.fixture(scope="module")
def sales_agent(browser: Browser, live_server: str) -> Iterator[SalesAgent]:
    """A new agent in the first branch's "Kinh doanh" department, filed, approved and
    provisioned through the JSON API."""
    context = browser.new_context(base_url=live_server)
    api = context.request
    try:
        _json(api, "POST", "/api/v1/session", {"email": REQUESTER, "password": DEMO_PASSWORD})
        branch = _json(api, "GET", "/api/v1/branches")[0]["id"]
        sales = next(each for each in _json(api, "GET", f"/api/v1/branches/{branch}/departments")
                     if each["name"] == "Kinh doanh")
        employee = next(each for each in _json(
            api, "GET", f"/api/v1/departments/{sales['id']}/employees") if each["agent"] is None)
        ticket = _json(api, "POST", "/api/v1/tickets",
                       {"kind": "new", "employee_id": employee["id"]}, status=201)
        _json(api, "POST", "/api/v1/session", {"email": APPROVER, "password": DEMO_PASSWORD})
        _json(api, "POST", f"/api/v1/tickets/{ticket['id']}/approve", {})

        def provisioned() -> dict[str, Any] | None:
            found = _json(api, "GET", f"/api/v1/tickets/{ticket['id']}")
            assert found["state"] not in {"failed", "rejected", "cancelled"}, found
            return found if found["state"] == "provisioned" else None

        done = wait_for(provisioned, f"ticket #{ticket['id']} to be provisioned",
                        timeout=PROVISIONED_TIMEOUT_SECONDS)
        agent = _json(api, "GET", f"/api/v1/agents/{done['agent_id']}")
        yield SalesAgent(agent["id"], agent["extension"])
    finally:
        context.close()


def _watch_errors(page: Page) -> list[str]:
    """Collect the page's uncaught errors and console errors from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    return errors


def _choose(page: Page, language: str) -> None:
    """Switch to English with the bar's switch when asked (Vietnamese is the default)."""
    if language == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_calling_admin_pages_open_cleanly(
    page: Page, screenshot: Screenshot, language: str
) -> None:
    errors = _watch_errors(page)
    login(page, ADMIN)
    _choose(page, language)
    navigation = page.get_by_role("navigation", name="Điều hướng chính" if language == "vi"
                                  else "Main navigation")
    navigation.get_by_role("button", name="Quản trị" if language == "vi"
                           else "Administration").click()
    navigation.get_by_role(
        "link", name="Chức năng gọi" if language == "vi" else "Calling functions").click()
    expect(page).to_have_url(re.compile(r"/admin/calling$"))
    for path, vietnamese, english in ADMIN_PAGES:
        page.goto(path)
        expect(page.locator("main")).to_contain_text(vietnamese if language == "vi" else english)
        screenshot(page, f"{language}{path.replace('/', '-')}", full_page=False)
    # The demo's profiles, working week and holidays are there
    page.goto("/admin/calling")
    expect(page.locator("#profiles")).to_contain_text("Telesales")
    page.goto("/admin/calling/hours")
    expect(page.locator("#week-d0_1_starts")).to_have_value("08:00")
    expect(page.locator("#holidays")).to_contain_text("30/04/2026")
    assert errors == [], errors


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_agents_calling_section_and_the_call_check(
    page: Page, screenshot: Screenshot, language: str, sales_agent: SalesAgent
) -> None:
    texts = TEXTS[language]
    errors = _watch_errors(page)
    login(page, REQUESTER)
    _choose(page, language)
    page.goto(f"/agents/{sales_agent.agent_id}")
    section = page.locator("#calling")
    expect(section.locator("h2")).to_have_text(texts["section"])
    expect(page.locator("#calling-source")).to_contain_text(texts["source"])
    expect(page.locator("#calling-rules")).to_contain_text(texts["mobile"])
    screenshot(page, f"{language}-agent-calling")

    section.get_by_role("link").click()  # check a call from this extension
    form = page.locator("#check-form")
    expect(form.locator("input[name='extension']")).to_have_value(sales_agent.extension)
    form.locator("input[name='number']").fill("+1 415 555 2671")
    form.get_by_role("button", name=texts["check"], exact=True).click()
    result = page.locator("#check-result")
    expect(result).to_contain_text(texts["abroad"])
    expect(page.locator("#check-reason")).to_have_text(texts["class_refused"])
    expect(page.locator("#check-source")).to_have_text(texts["source"])
    screenshot(page, f"{language}-call-check")
    assert errors == [], errors
