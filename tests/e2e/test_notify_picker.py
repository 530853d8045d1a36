"""People to notify are picked with plain clicks, shown as chips and found without diacritics."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import REQUESTER, login, pick_employee

Screenshot = Callable[..., object]


@pytest.mark.parametrize("width", [1366, 390])
def test_two_clicks_pick_two_people_and_both_are_told(
    page: Page, screenshot: Screenshot, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    login(page, REQUESTER)
    page.goto("/agents/setup")
    pick_employee(page, 1 if width == 1366 else 2)
    people = page.locator("#notify-list .form-check")
    first, second = people.nth(0), people.nth(1)
    names = [row.inner_text().split(" <")[0].strip() for row in (first, second)]

    # When the requester clicks two people, one after the other (no Ctrl)
    first.locator("input").click()
    second.locator("input").click()

    # Then both stay picked and show as chips
    expect(first.locator("input")).to_be_checked()
    expect(second.locator("input")).to_be_checked()
    chips = page.locator("#notify-chosen .badge")
    expect(chips).to_have_count(2)
    for name in names:
        expect(page.locator("#notify-chosen")).to_contain_text(name)

    # And a chip's button takes that person off again
    chips.nth(1).get_by_role("button").click()
    expect(second.locator("input")).not_to_be_checked()
    expect(chips).to_have_count(1)
    second.locator("input").click()

    # A name typed without diacritics finds the person
    plain = unicodedata.normalize("NFD", names[0]).encode("ascii", "ignore").decode()
    page.locator("#notify-search").fill(plain.replace("Đ", "D").lower())
    expect(first).to_be_visible()
    screenshot(page, f"notify-{width}", full_page=False)

    # Filing the ticket tells both
    page.get_by_role("button", name="Hoàn thành và thoát").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    ticket = page.request.get(page.url.replace("/tickets/", "/api/v1/tickets/")).json()
    assert {watcher["full_name"] for watcher in ticket["watchers"]} >= set(names), ticket
