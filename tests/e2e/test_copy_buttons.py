"""The "Chép" buttons put a hand-over link and a revealed SIP password on the clipboard."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.credential_links import Staff, open_link


def test_the_link_and_the_password_are_copied_with_one_click(page: Page, staff: Staff) -> None:
    # Given an admin who made a one-time link for a new agent's password
    staff.context.grant_permissions(["clipboard-read", "clipboard-write"])
    link = staff.hand_over(staff.new_account())

    # When the admin presses "Chép" next to the link
    staff.page.locator("[data-copy-target='#handover-link']").click()

    # Then the link is on the clipboard and the button says so
    expect(staff.page.locator("[data-copy-target='#handover-link']")).to_contain_text("Đã chép")
    assert staff.page.evaluate("navigator.clipboard.readText()") == link

    # And the employee who opens it copies the password the same way
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_link(page, link)
    page.get_by_role("button", name="Hiện mật khẩu").click()
    password = page.locator("#sip-password").inner_text().strip()
    assert len(password) >= 16
    page.locator("[data-copy-target='#sip-password']").click()
    expect(page.locator("[data-copy-target='#sip-password']")).to_contain_text("Đã chép")
    assert page.evaluate("navigator.clipboard.readText()") == password
