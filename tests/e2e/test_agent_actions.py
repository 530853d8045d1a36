"""An agent's actions, "Đổi tài khoản" and "Ngừng cấp", in the agent list and on the agent's page:
each opens the setup form filled in for that agent, and filing from there gives the ticket.
On a laptop and on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import REQUESTER, Person, employees_to_pick, expect_fits, login

Screenshot = Callable[..., Path]

TICKET_URL = re.compile(r"/tickets/(\d+)$")
CHANGE, REVOKE = "Đổi tài khoản", "Ngừng cấp TK cloud phone"


def agent_row(page: Page, person: Person) -> Locator:
    """The agent's row in the agent list, found with the list's own search by extension."""
    assert person.agent is not None
    page.goto("/agents")
    page.get_by_label("Tìm theo tên hoặc số máy lẻ").fill(person.agent["extension"])
    page.get_by_role("button", name="Lọc", exact=True).click()
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=person.full_name, exact=True))
    expect(row).to_have_count(1)
    expect_fits(page)
    return row


def expect_form_for(page: Page, person: Person, kind: str) -> None:
    """The setup form, opened for this agent's employee and this kind of ticket."""
    assert person.agent is not None
    expect(page).to_have_url(re.compile(r"/agents/setup\?"))
    expect(page.get_by_role("heading", name="Thiết lập agent")).to_be_visible()
    expect(page.get_by_label(kind, exact=True)).to_be_checked()
    other = REVOKE if kind == CHANGE else CHANGE
    expect(page.get_by_label(other, exact=True)).not_to_be_checked()
    expect(page.get_by_label("Cấp mới TK", exact=True)).not_to_be_checked()
    expect(page.locator("#branch_id")).to_have_value(str(person.branch_id))
    expect(page.locator("#department_id")).to_have_value(str(person.department_id))
    expect(page.locator("#department_id option:checked")).to_have_text(person.department)
    expect(page.locator("#employee_id")).to_have_value(str(person.id))
    expect(page.locator("#employee_id option:checked")).to_contain_text(person.full_name)
    expect(page.locator("#current-agent")).to_contain_text(
        f"Hiện tại: số máy lẻ {person.agent['extension']}")
    if kind == REVOKE:  # nothing to choose about the extension of an account being stopped
        expect(page.locator("#extension-routing")).to_be_hidden()
    else:
        expect(page.locator("#extension-routing")).to_be_visible()
    expect_fits(page)


def file_and_expect_ticket(page: Page, person: Person, kind: str) -> int:
    """Send the form with "Hoàn thành và thoát"; the ticket page it leads to; its id."""
    page.get_by_role("button", name="Hoàn thành và thoát").click()
    expect(page).to_have_url(TICKET_URL)
    expect(page.locator("h1")).to_contain_text(f"{kind} — {person.full_name}")
    expect(page.locator("h1")).to_contain_text("Chờ duyệt")
    expect_fits(page)
    found = TICKET_URL.search(page.url)
    assert found is not None
    return int(found.group(1))


def test_the_agent_lists_actions_open_the_form_filled_in_and_a_change_is_filed(
    page: Page, viewport: dict[str, int], screenshot: Screenshot
) -> None:
    login(page, REQUESTER)
    person = employees_to_pick(page, with_agent=True)[0]

    # "Ngừng cấp" in the agent's row opens the form for a revoke of that agent
    agent_row(page, person).get_by_role("link", name="Ngừng cấp", exact=True).click()
    expect_form_for(page, person, REVOKE)

    # "Đổi tài khoản" opens it for a change
    agent_row(page, person).get_by_role("link", name=CHANGE, exact=True).click()
    expect_form_for(page, person, CHANGE)
    screenshot(page, "change-form-from-list", full_page=False)

    # Filing it (a new SIP password) gives the change ticket
    page.get_by_label("Cấp mật khẩu SIP mới").check()
    ticket = file_and_expect_ticket(page, person, CHANGE)
    expect(page.locator("ol.list-group")).to_contain_text("Cấp mật khẩu SIP mới")

    # And the row now leads to that ticket instead of offering another
    row = agent_row(page, person)
    expect(row.get_by_role("link", name=f"Đang có phiếu #{ticket}")).to_be_visible()
    expect(row.get_by_role("link", name=CHANGE, exact=True)).to_have_count(0)
    expect(row.get_by_role("link", name="Ngừng cấp", exact=True)).to_have_count(0)


def test_the_agent_pages_actions_open_the_form_filled_in_and_a_revoke_is_filed(
    page: Page, viewport: dict[str, int], screenshot: Screenshot
) -> None:
    login(page, REQUESTER)
    person = employees_to_pick(page, with_agent=True)[0]
    assert person.agent is not None
    agent_page = f"/agents/{person.agent['id']}"
    actions = page.locator("#agent-actions")

    # "Đổi tài khoản" on the agent's page opens the form for a change of that agent
    page.goto(agent_page)
    expect(page.locator("h1")).to_contain_text(person.full_name)
    expect_fits(page)
    actions.get_by_role("link", name=CHANGE, exact=True).click()
    expect_form_for(page, person, CHANGE)

    # "Ngừng cấp" opens it for a revoke
    page.goto(agent_page)
    actions.get_by_role("link", name="Ngừng cấp", exact=True).click()
    expect_form_for(page, person, REVOKE)
    screenshot(page, "revoke-form-from-agent-page", full_page=False)

    # Filing it gives the revoke ticket
    ticket = file_and_expect_ticket(page, person, REVOKE)

    # And the agent's page now leads to that ticket instead of offering another
    page.goto(agent_page)
    expect(actions.get_by_role("link", name=f"Đang có phiếu #{ticket}")).to_be_visible()
    expect(actions.get_by_role("link", name="Ngừng cấp", exact=True)).to_have_count(0)
    expect(actions.get_by_role("link", name=CHANGE, exact=True)).to_have_count(0)
