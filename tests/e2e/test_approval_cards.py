"""The approval queue on a phone: a card per waiting ticket, nothing to scroll sideways, and a
ticket approved by tapping; a table on a laptop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.accessibility import blocking_violations
from tests.support.browser import (
    ACTION_TIMEOUT_MS,
    APPROVER,
    REQUESTER,
    api_login,
    expect_fits,
    free_employee,
    login,
)

Screenshot = Callable[..., Path]

#: A phone and a laptop (CSS pixels).
PHONE, LAPTOP = 390, 1366
#: What each card says, line by line, before the values.
CARD_LABELS = ["Loại phiếu", "Chi nhánh", "Nhân viên", "Người yêu cầu",
               "Thay đổi trên tổng đài", "Ngày tạo"]


@pytest.fixture(params=[PHONE, LAPTOP], ids=lambda width: f"{width}px")
def queue(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The approver's queue at a phone's width (touch) or a laptop's, a ticket filed first."""
    width = request.param
    context = browser.new_context(base_url=live_server, locale="vi-VN",
                                  viewport={"width": width, "height": 800},
                                  has_touch=width == PHONE, is_mobile=width == PHONE)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    requester = context.request
    api_login_page = context.new_page()
    api_login(api_login_page, REQUESTER)
    filed = requester.post("/api/v1/tickets", data={
        "kind": "new", "employee_id": free_employee(api_login_page)})
    assert filed.status == 201, filed.text()
    api_login_page.close()
    context.clear_cookies()
    page = context.new_page()
    login(page, APPROVER)
    page.goto("/approvals")
    yield page
    context.close()


def labels_of_first_card(page: Page) -> list[str]:
    """The labels the first waiting ticket's cells show before their values."""
    return page.locator("#approval-queue tbody tr").first.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
        ".filter(c => c && c !== 'none').map(c => c.replace(/^\"|: \"$/g, ''))")


def test_the_queue_is_cards_on_a_phone_and_a_table_on_a_laptop(
    queue: Page, screenshot: Screenshot
) -> None:
    page = queue
    width = page.viewport_size["width"] if page.viewport_size else 0
    rows = page.locator("#approval-queue tbody tr")
    expect(rows.first).to_be_visible()
    expect_fits(page)
    region = page.locator("#approval-queue")
    display = rows.first.evaluate("row => getComputedStyle(row).display")
    if width == PHONE:
        assert display == "block"
        assert region.evaluate("box => box.scrollWidth <= box.clientWidth"), region.evaluate(
            "box => [box.scrollWidth, box.clientWidth]")
        assert labels_of_first_card(page) == CARD_LABELS
        # Every card fits the queue's box, and its column headers are out of sight
        assert rows.evaluate_all("""cards => cards.every(card => card.getBoundingClientRect()
            .right <= card.parentElement.getBoundingClientRect().right + 0.5)""")
        expect(page.locator("#approval-queue thead th").nth(2)).to_have_css("position", "absolute")
        expect(page.get_by_text("Chọn tất cả", exact=True)).to_be_visible()
    else:
        assert display == "table-row"
        assert labels_of_first_card(page) == []
        expect(page.locator("#approval-queue thead th").nth(4)).to_have_text("Nhân viên")
        expect(page.locator("label[for=pick-all]")).to_be_hidden()
    assert blocking_violations(page) == []
    screenshot(page, f"queue-{width}", full_page=False)


def test_on_a_phone_the_decision_stays_in_view_while_the_first_card_is_ticked(
    queue: Page
) -> None:
    page = queue
    if (page.viewport_size or {}).get("width") != PHONE:
        expect(page.locator(".queue-decision")).to_have_css("position", "static")
        return
    first = page.locator("#approval-queue input[name=ticket_ids]").first
    first.tap()
    expect(first).to_be_checked()
    # The queue is longer than the screen: without the sticky bar the buttons are below it.
    assert page.evaluate("document.documentElement.scrollHeight > 2 * window.innerHeight")
    approve = page.get_by_role("button", name="Duyệt các phiếu đã chọn")
    top, bottom = approve.evaluate("b => [b.getBoundingClientRect().top, "
                                   "b.getBoundingClientRect().bottom]")
    assert top >= 0 and bottom <= page.evaluate("window.innerHeight"), (top, bottom)
    assert page.evaluate("window.scrollY") < 100


def test_a_ticket_is_approved_by_tapping_on_a_phone_or_clicking_on_a_laptop(
    queue: Page, screenshot: Screenshot
) -> None:
    page = queue
    width = page.viewport_size["width"] if page.viewport_size else 0
    newest = page.locator("#approval-queue input[name=ticket_ids]").evaluate_all(
        "boxes => Math.max(...boxes.map(box => Number(box.value)))")
    box = page.locator(f"#pick-{newest}")
    box.scroll_into_view_if_needed()
    if width == PHONE:
        box.tap()
    else:
        box.click()
    expect(box).to_be_checked()
    screenshot(page, "ticked", full_page=False)
    approve = page.get_by_role("button", name="Duyệt các phiếu đã chọn")
    approve.scroll_into_view_if_needed()
    if width == PHONE:
        approve.tap()
    else:
        approve.click()
    expect(page.locator(".alert-success")).to_contain_text(f"Đã duyệt #{newest}.")
    expect(page.locator(f"#pick-{newest}")).to_have_count(0)
    state = page.request.get(f"/api/v1/tickets/{newest}").json()["state"]
    assert state in {"approved", "provisioning", "provisioned"}
