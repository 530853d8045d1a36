"""An agent's page and actions, on a laptop and on a phone.

- "Đổi tài khoản" and "Ngừng cấp", in the agent list and on the agent's page, each open the
  setup form filled in for that agent, and filing from there gives the ticket.
- What the agent's page says about calling out agrees with the call check: an agent under the
  default profile, which has no hotline yet, may not call out; once an admin gives the profile a
  hotline (first without a default, then as the default) the page and the check both say it may.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.support.browser import ADMIN, REQUESTER, Person, employees_to_pick, expect_fits, login

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


# --- calling out ---------------------------------------------------------------------------

#: Departments of the demo that no profile of their own covers: the default profile applies.
DEFAULT_DEPARTMENTS = frozenset({"Kế toán", "Kỹ thuật"})
DEFAULT_PROFILE = "Mặc định"
#: A domestic mobile, a class the default profile allows.
MOBILE = "0912345678"
HOTLINE = "+842873001234"
HOTLINE_LABEL = f"{HOTLINE} — Tổng đài CSKH"


def without_hotlines(page: Page) -> dict[str, Any]:
    """Put the default profile back as installed, with no hotline (through the API); returns it."""
    profile = next(each for each in page.request.get("/api/v1/calling/profiles").json()
                   if each["name"] == DEFAULT_PROFILE)
    body = {key: profile[key] for key in (
        "name", "outgoing", "number_classes", "max_internal_seconds", "max_outgoing_seconds",
        "after_hours", "external_forwarding", "version")}
    saved = page.request.put(f"/api/v1/calling/profiles/{profile['id']}",
                             data={**body, "hotline_ids": [], "default_hotline_id": None})
    assert saved.status == 200, saved.text()
    reset: dict[str, Any] = saved.json()
    assert reset["outgoing"] and reset["hotlines"] == [], reset
    return reset


def check(page: Page, extension: str, caller_id: str | None = None) -> dict[str, Any]:
    """The call check's answer (JSON API) for a call from `extension` to `MOBILE`."""
    query = {"extension": extension, "number": MOBILE}
    if caller_id:
        query["caller_id"] = caller_id
    answer = page.request.get("/api/v1/calling/check", params=query)
    assert answer.status == 200, answer.text()
    result: dict[str, Any] = answer.json()
    return result


def check_page_verdict(page: Page, agent_page: str, caller_id: str = "") -> str:
    """From the agent's page, the call check page's verdict for a call to `MOBILE`."""
    page.goto(agent_page)
    page.get_by_role("link", name="Kiểm tra một cuộc gọi của số máy lẻ này").click()
    form = page.locator("#check-form")
    form.get_by_label("Số cần gọi", exact=True).fill(MOBILE)
    if caller_id:
        form.get_by_label("Số hiển thị (không bắt buộc)", exact=True).fill(caller_id)
    form.get_by_role("button", name="Kiểm tra", exact=True).click()
    verdict = page.locator("#check-result .badge").first
    expect(verdict).to_have_text(re.compile(r"^(Được gọi|Không được gọi)$"))
    expect_fits(page)
    return verdict.inner_text()


def test_the_agent_page_says_outgoing_calls_are_allowed_exactly_when_the_check_does(
    page: Page, viewport: dict[str, int], screenshot: Screenshot
) -> None:
    login(page, ADMIN)
    profile = without_hotlines(page)
    person = employees_to_pick(page, with_agent=True, departments=DEFAULT_DEPARTMENTS)[0]
    assert person.agent is not None
    extension, agent_page = person.agent["extension"], f"/agents/{person.agent['id']}"
    outgoing = page.locator("#calling-outgoing")

    # Given an agent under the default profile, which allows calling out but has no hotline
    page.goto(agent_page)
    expect(page.locator("#calling-source")).to_contain_text(
        f"Tổ chức — hồ sơ {DEFAULT_PROFILE}")
    expect_fits(page)

    # Then the page says it may not call out, and so does the call check
    expect(outgoing).to_have_text(re.compile(r"^Không\b"))
    expect(outgoing).not_to_have_text(re.compile(r"^Được"))
    refused = check(page, extension)
    assert refused["allowed"] is False and refused["reason"] == "no_caller_id", refused
    assert check_page_verdict(page, agent_page) == "Không được gọi"
    screenshot(page, "check-without-hotline", full_page=False)

    # When the admin allows a hotline in the profile (from the agent's page), with no default
    page.goto(agent_page)
    page.locator("#calling-source").get_by_role("link", name=re.compile(DEFAULT_PROFILE)).click()
    expect(page).to_have_url(re.compile(rf"/admin/calling/profiles/{profile['id']}$"))
    page.get_by_label(HOTLINE_LABEL, exact=True).check()
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã lưu hồ sơ gọi {DEFAULT_PROFILE}.")

    # Then the page says it may call out once a caller ID is chosen, as the check does
    page.goto(agent_page)
    expect(outgoing).to_have_text("Được, khi chọn một số hiển thị (chưa có số mặc định)")
    assert check(page, extension)["reason"] == "no_caller_id"
    chosen = check(page, extension, HOTLINE)
    assert chosen["allowed"] is True and chosen["caller_id"] == HOTLINE, chosen
    assert check_page_verdict(page, agent_page, HOTLINE) == "Được gọi"

    # When the admin makes it the default hotline
    page.goto(f"/admin/calling/profiles/{profile['id']}")
    page.get_by_label("Hotline mặc định").select_option(label=HOTLINE_LABEL)
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã lưu hồ sơ gọi {DEFAULT_PROFILE}.")

    # Then the page says it may call out, and the check lets its calls go as that hotline
    page.goto(agent_page)
    expect(outgoing).to_have_text("Được")
    expect_fits(page)
    screenshot(page, "agent-with-hotline", full_page=False)
    allowed = check(page, extension)
    assert allowed["allowed"] is True and allowed["caller_id"] == HOTLINE, allowed
    assert check_page_verdict(page, agent_page) == "Được gọi"
