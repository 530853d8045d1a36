"""Every main page opens in the browser without a script error, in both languages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import ADMIN, login

Screenshot = Callable[..., Path]

#: Each main page and a heading it shows, in Vietnamese then in English.
PAGES = [
    ("/agents", "Danh sách Agent", "Agent list"),
    ("/agents/setup", "Thiết lập agent", "Set up agent"),
    ("/tickets", "Phiếu của tôi", "My tickets"),
    ("/approvals", "Phiếu chờ duyệt", "Approval queue"),
    ("/notifications", "Thông báo", "Notifications"),
    ("/admin/users", "Người dùng", "Users"),
    ("/admin/policy", "Quy tắc số máy lẻ", "Extension policy"),
    ("/admin/structure", "Cơ cấu tổ chức", "Organisation"),
    ("/admin/employees", "Nhân viên", "Employee"),
    ("/admin/employees/import", "Nhập nhân viên từ CSV", "Import employees from CSV"),
]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_main_page_opens_cleanly(page: Page, screenshot: Screenshot, language: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    login(page, ADMIN)
    if language == "en":
        page.get_by_role("button", name="English").click()
    for path, vietnamese, english in PAGES:
        page.goto(path)
        expect(page.locator("h1")).to_contain_text(vietnamese if language == "vi" else english)
        screenshot(page, f"{language}{path.replace('/', '-')}", full_page=False)
    assert errors == [], errors


