"""A ticket the phone system could not apply is found by approvers and admins in "Tất cả phiếu"
with the state filter "Thất bại", and in that page's CSV export. On a laptop and on a phone.

The module's server talks to a Kamailio that is not there (nothing listens on its database or
JSON-RPC ports), so every provisioning fails, as it would during an outage.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import (
    ADMIN,
    APPROVER,
    REQUESTER,
    api_login,
    employees_to_pick,
    expect_fits,
    login,
    wait_for_ticket,
)
from tests.support.processes import free_port

Screenshot = Callable[..., Path]

_NOWHERE = free_port()
#: A phone system that does not answer; two attempts, then the ticket fails.
SERVER_ENV = {
    "PHONE_SYSTEM": "kamailio",
    "KAMAILIO_DATABASE_URL": f"postgresql://kamailio@127.0.0.1:{_NOWHERE}/kamailio",
    "KAMAILIO_RPC_URL": f"http://127.0.0.1:{_NOWHERE}/RPC",
    "PROVISION_MAX_ATTEMPTS": "2",
}


@pytest.fixture(scope="module")
def failed_ticket(browser: Browser, live_server: str) -> Iterator[dict[str, Any]]:
    """A new-account ticket filed, approved, then failed by the phone system; as the API
    shows it."""
    context = browser.new_context(base_url=live_server)
    try:
        page = context.new_page()
        api_login(page, REQUESTER)
        person = employees_to_pick(page, with_agent=False)[0]
        filed = page.request.post("/api/v1/tickets",
                                  data={"kind": "new", "employee_id": person.id})
        assert filed.status == 201, filed.text()
        ticket = int(filed.json()["id"])
        api_login(page, APPROVER)
        approved = page.request.post(f"/api/v1/tickets/{ticket}/approve", data={})
        assert approved.status == 200, approved.text()
        yield wait_for_ticket(page.request, ticket, "failed")
    finally:
        context.close()


@pytest.mark.parametrize("email", [APPROVER, ADMIN])
def test_a_failed_ticket_is_listed_and_exported_with_the_failed_filter(
    page: Page, viewport: dict[str, int], failed_ticket: dict[str, Any], email: str,
    screenshot: Screenshot,
) -> None:
    ticket = failed_ticket["id"]
    assert failed_ticket["last_error"], failed_ticket
    login(page, email)

    # When they filter "Tất cả phiếu" by the state "Thất bại"
    page.goto("/tickets/all")
    expect(page.get_by_role("heading", name="Tất cả phiếu")).to_be_visible()
    expect_fits(page)
    page.get_by_label("Trạng thái").select_option(label="Thất bại")
    page.get_by_role("button", name="Lọc", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]state=failed(&|$)"))

    # Then the failed ticket is listed, as failed, and only failed tickets are
    link = page.get_by_role("link", name=f"#{ticket}", exact=True)
    expect(link).to_be_visible()
    row = page.get_by_role("row").filter(has=link)
    expect(row).to_contain_text(failed_ticket["employee_name"])
    expect(row).to_contain_text("Thất bại")
    rows = page.locator("main tbody").get_by_role("row")
    expect(rows).not_to_have_count(0)
    states = [text.strip() for text in rows.locator(".badge").all_inner_texts()]
    assert states and set(states) == {"Thất bại"}, states
    # the quick filter counts them all (the demo has one failed ticket of its own)
    expect(page.locator("#failed-filter .badge")).to_have_text(str(len(states)))
    expect_fits(page)
    screenshot(page, "failed-tickets", full_page=False)

    # And the page's CSV export holds it, with the error that made it fail
    with page.expect_download() as download:
        page.get_by_role("link", name="Xuất CSV").click()
    assert download.value.suggested_filename == "tickets.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header, *lines = list(csv.reader(io.StringIO(text)))
    assert header[0] == "Mã phiếu" and "Lỗi gần nhất" in header, header
    exported = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert str(ticket) in exported, text
    mine = exported[str(ticket)]
    assert mine["Trạng thái"] == "Thất bại", mine
    assert mine["Nhân viên"] == failed_ticket["employee_name"], mine
    assert mine["Lỗi gần nhất"] == failed_ticket["last_error"], mine
    assert {line["Trạng thái"] for line in exported.values()} == {"Thất bại"}, text
    assert len(exported) == len(states), text
