"""The demo staff in a browser provisioning an account and handing over its one-time link."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import APIRequestContext, Browser, BrowserContext, Page, expect

from tests.support.browser import (
    ACTION_TIMEOUT_MS,
    ADMIN,
    APPROVER,
    DEMO_PASSWORD,
    REQUESTER,
)
from tests.support.processes import wait_for

Screenshot = Callable[..., Path]


#: Approval to "provisioned": the embedded worker usually needs well under a second.
PROVISIONED_TIMEOUT_SECONDS = 15.0


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
