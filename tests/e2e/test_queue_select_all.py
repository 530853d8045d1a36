"""The approval queue's "Chọn tất cả" box ticks every ticket, follows the boxes ticked one by one,
and the bulk approval then decides every ticket ticked, on a laptop and on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.browser import (
    APPROVER,
    REQUESTER,
    api_login,
    employees_to_pick,
    expect_fits,
    login,
)

Screenshot = Callable[..., Path]

#: Tickets the requester files for each test (the demo's own waiting tickets come on top).
FILED = 3


def indeterminate(box: Locator) -> bool:
    """Whether a checkbox shows the "some but not all" mark."""
    return bool(box.evaluate("box => box.indeterminate"))


def test_select_all_ticks_every_ticket_and_the_bulk_approval_decides_them_all(
    page: Page, viewport: dict[str, int], browser: Browser, live_server: str,
    screenshot: Screenshot,
) -> None:
    # Given tickets the requester filed (in another browser context)
    requester = browser.new_context(base_url=live_server)
    try:
        filer = requester.new_page()
        api_login(filer, REQUESTER)
        filed = []
        for person in employees_to_pick(filer, with_agent=False)[:FILED]:
            answer = filer.request.post("/api/v1/tickets",
                                        data={"kind": "new", "employee_id": person.id})
            assert answer.status == 201, answer.text()
            filed.append(int(answer.json()["id"]))
    finally:
        requester.close()

    # When the approver opens the queue
    login(page, APPROVER)
    page.goto("/approvals")
    expect(page.get_by_role("heading", name="Phiếu chờ duyệt")).to_be_visible()
    expect_fits(page)
    every = page.get_by_role("checkbox", name="Chọn tất cả", exact=True)
    boxes = page.get_by_role("checkbox", name=re.compile(r"^Chọn phiếu #\d+$"))
    shown = [int(value) for value in boxes.evaluate_all("boxes => boxes.map(b => b.value)")]
    assert set(filed) <= set(shown), (filed, shown)
    expect(every).not_to_be_checked()

    # And ticks "Chọn tất cả"
    every.click()

    # Then every ticket is ticked
    for box in boxes.all():
        expect(box).to_be_checked()
    screenshot(page, "all-ticked", full_page=False)

    # When one ticket is unticked, "Chọn tất cả" is no longer ticked (but marked "some")
    boxes.nth(1).click()
    expect(boxes.nth(1)).not_to_be_checked()
    expect(every).not_to_be_checked()
    assert indeterminate(every)
    expect(boxes.nth(0)).to_be_checked()

    # And ticking it again by hand makes "Chọn tất cả" ticked again
    boxes.nth(1).click()
    expect(every).to_be_checked()
    assert not indeterminate(every)

    # Unticking "Chọn tất cả" clears every box: approving then decides nothing
    every.click()
    for box in boxes.all():
        expect(box).not_to_be_checked()
    page.get_by_role("button", name="Duyệt các phiếu đã chọn").click()
    expect(page.get_by_role("alert")).to_contain_text("Vui lòng chọn phiếu.")
    for ticket in filed:
        assert page.request.get(f"/api/v1/tickets/{ticket}").json()["state"] == "submitted"

    # When every ticket is ticked again and approved at once
    every = page.get_by_role("checkbox", name="Chọn tất cả", exact=True)
    every.click()
    expect(boxes.first).to_be_checked()
    page.get_by_role("button", name="Duyệt các phiếu đã chọn").click()

    # Then every ticket the queue showed is approved, and the queue is empty
    done = page.get_by_role("status").filter(has_text="Đã duyệt")
    expect(done).to_have_text("Đã duyệt " + ", ".join(f"#{ticket}" for ticket in shown) + ".")
    expect(page.get_by_text("Không có phiếu nào chờ bạn duyệt.")).to_be_visible()
    expect(boxes).to_have_count(0)
    expect_fits(page)
    screenshot(page, "all-approved", full_page=False)
    for ticket in shown:
        state = page.request.get(f"/api/v1/tickets/{ticket}").json()["state"]
        assert state in {"approved", "provisioning", "provisioned"}, (ticket, state)
