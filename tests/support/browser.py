"""The browser tests' demo site: its users, signing in, sizes, pickers and waits in Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import (
    APIRequestContext,
    APIResponse,
    Browser,
    Dialog,
    Page,
    expect,
)

from tests.support.processes import wait_for

#: The browser: Debian's Chromium from apt. Never a browser downloaded by `playwright install`.
CHROMIUM = Path("/usr/bin/chromium")


#: Why the e2e tests cannot run without it, and how to fix that.
CHROMIUM_MISSING = (
    f"{CHROMIUM} is missing: the browser end-to-end tests drive Debian's Chromium. "
    "Run `.ci/run` (it installs it) or `apt-get install -y chromium`; "
    "do not use `playwright install`."
)


#: Chromium flags: no sandbox because the suite runs as root; /tmp instead of a small /dev/shm.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]


#: The demo users `agentdesk seed-demo` creates, and their password.
REQUESTER = "requester@demo.vn"


APPROVER = "approver@demo.vn"


ADMIN = "admin@demo.vn"


DEMO_PASSWORD = "demo"


ACTION_TIMEOUT_MS = 10_000


def login(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form at /login (inputs `email`, `password`, a submit button)."""
    page.goto("/login")
    form = page.locator("form").filter(has=page.locator("input[name='password']"))
    form.locator("input[name='email']").fill(email)
    form.locator("input[name='password']").fill(password)
    form.locator("[type='submit']").click()
    expect(page, f"signing in as {email} should leave /login").not_to_have_url(
        re.compile(r"/login(?:[?#].*)?$")
    )


def api_login(page: Page, email: str, password: str = DEMO_PASSWORD) -> APIResponse:
    """Sign in through POST /api/v1/session; the session cookie lands in the page's context."""
    response = page.request.post("/api/v1/session", data={"email": email, "password": password})
    assert response.status == 200, f"signing in as {email}: {response.status} {response.text()}"
    return response


def free_employee(page: Page) -> int:
    """An employee with neither an agent nor an open ticket (the demo has both), first in the
    first branch and department that has one, as the signed-in user of `page` sees it."""
    for branch in page.request.get("/api/v1/branches").json():
        for department in page.request.get(
                f"/api/v1/branches/{branch['id']}/departments").json():
            for employee in page.request.get(
                    f"/api/v1/departments/{department['id']}/employees").json():
                if employee["agent"] is None and employee["open_ticket_id"] is None:
                    return int(employee["id"])
    raise AssertionError("every demo employee has an agent or an open ticket")


def answer_next_dialog(page: Page, accept: bool) -> list[str]:
    """Answer the page's next dialog (yes or no); the list returned receives its question."""
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        """Note the question, then answer it."""
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    return asked


@contextmanager
def signed_in_page(browser: Browser, base_url: str, email: str,
                   viewport: dict[str, int] | None = None) -> Iterator[Page]:
    """A page of a new browser context (vi-VN) signed in as `email` through the form."""
    context = browser.new_context(
        base_url=base_url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
        viewport=viewport or {"width": 1280, "height": 800})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        other = context.new_page()
        login(other, email)
        yield other
    finally:
        context.close()


#: The innermost elements whose right edge passes the viewport, as tag#id.class (for the report).
_STICKING_OUT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
          && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 3)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
             + '.' + [...e.classList].join('.'))"""


def overflow_problem(page: Page) -> str | None:
    """Why the page is wider than its viewport (it would scroll sideways), naming the
    elements that stick out; None when it fits."""
    width, inner = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    if width <= inner:
        return None
    return (f"{page.url} is {width - inner}px wider than its {inner}px viewport: "
            + ", ".join(page.evaluate(_STICKING_OUT)))


def expect_fits(page: Page) -> None:
    """Fail when the page is wider than its viewport."""
    page.wait_for_load_state()
    problem = overflow_problem(page)
    assert problem is None, problem


@dataclass(frozen=True)
class Person:
    """An employee as the setup form's pickers find them."""

    id: int
    full_name: str
    branch_id: int
    department_id: int
    department: str
    agent: dict[str, Any] | None


def employees_to_pick(page: Page, with_agent: bool,
                      departments: frozenset[str] | None = None) -> list[Person]:
    """The employees without an open ticket that have (or have not) an active agent, in the
    departments named (all when None), branch by branch, as the signed-in user of `page` sees
    them."""
    found = []
    for branch in page.request.get("/api/v1/branches").json():
        for department in page.request.get(
                f"/api/v1/branches/{branch['id']}/departments").json():
            if departments is not None and department["name"] not in departments:
                continue
            for person in page.request.get(
                    f"/api/v1/departments/{department['id']}/employees").json():
                agent = person["agent"]
                active = agent is not None and agent["status"] == "active"
                if person["open_ticket_id"] is None and active == with_agent:
                    found.append(Person(person["id"], person["full_name"], branch["id"],
                                        department["id"], department["name"], agent))
    return found


def wait_for_ticket(api: APIRequestContext, ticket_id: int, state: str,
                    timeout: float = 20.0) -> dict[str, Any]:
    """The ticket once the workers have brought it to `state` (fails on another final state)."""
    final = {"provisioned", "failed", "rejected", "cancelled"} - {state}

    def reached() -> dict[str, Any] | None:
        ticket: dict[str, Any] = api.get(f"/api/v1/tickets/{ticket_id}").json()
        assert ticket["state"] not in final, ticket
        return ticket if ticket["state"] == state else None

    return wait_for(reached, f"ticket #{ticket_id} to be {state}", timeout=timeout)


def pick_employee(page: Page, index: int) -> str:
    """Choose the first branch and department, then the `index`th employee the chosen kind
    allows; returns its name."""
    page.wait_for_load_state()  # the form's script listens for the choices from then on
    page.locator("#branch_id").select_option(index=1)
    department = page.locator("#department_id")
    expect(department.locator("option")).not_to_have_count(1)  # filled by the script
    if department.input_value() == "":
        department.select_option(index=1)
    employee = page.locator("#employee_id")
    expect(employee.locator("option")).not_to_have_count(1)
    # Number `index` of those the kind allows (the demo's agents and tickets are marked off)
    allowed = employee.locator("option:not([disabled]):not([value=''])")
    employee.select_option(value=allowed.nth(index - 1).get_attribute("value"))
    return employee.locator("option:checked").inner_text()
