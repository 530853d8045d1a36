"""The navigation at laptop and phone widths: one line at 1366 px, behind a menu button at
390 px, the admin pages grouped in one menu, icons from the app's own Bootstrap Icons."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import ADMIN

Login = Callable[[Page, str], None]


def test_at_laptop_width_the_navigation_is_one_line_and_admin_pages_are_one_menu(
    page: Page, login: Login, screenshot: Callable[..., object]
) -> None:
    page.set_viewport_size({"width": 1366, "height": 800})
    login(page, ADMIN)
    navigation = page.locator("nav.navbar")
    box = navigation.bounding_box()
    assert box is not None and box["height"] < 70  # no item wrapped onto a second line
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    expect(page.get_by_role("link", name="Người dùng")).to_be_hidden()
    page.get_by_role("button", name="Quản trị").click()
    expect(page.get_by_role("link", name="Người dùng")).to_be_visible()
    expect(page.get_by_role("link", name="Email chưa gửi được")).to_be_visible()
    # The bell is an icon font served by the app, not an emoji the system may not have
    bell = page.locator("#bell i.bi-bell-fill")
    expect(bell).to_be_visible()
    assert page.evaluate(
        "getComputedStyle(document.querySelector('#bell i'), '::before').fontFamily"
    ).strip('"') == "bootstrap-icons"
    screenshot(page, "navigation-1366", full_page=False)


@pytest.mark.parametrize("width", [390])
def test_at_phone_width_the_navigation_folds_behind_a_menu_button(
    page: Page, login: Login, screenshot: Callable[..., object], width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    login(page, ADMIN)
    expect(page.get_by_role("link", name="Phiếu của tôi")).to_be_hidden()
    box = page.locator("nav.navbar").bounding_box()
    assert box is not None and box["height"] < 80  # the first screen is the page, not links
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("button", name="Mở menu").click()
    expect(page.get_by_role("link", name="Phiếu của tôi")).to_be_visible()
    page.get_by_role("button", name="Quản trị").click()
    page.get_by_role("link", name="Quy tắc số máy lẻ").click()
    expect(page).to_have_url("/admin/policy")
    screenshot(page, f"navigation-{width}", full_page=False)
