"""axe-core's checks of a page, at the sizes and in the languages the pages are tested in."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

#: Laptop and phone widths (CSS pixels) every main page must fit without scrolling sideways.
WIDTHS = {"laptop": 1366, "phone": 390}


HEIGHT = 800


#: axe-core impacts that fail the test.
BLOCKING = {"serious", "critical"}


_AXE = Axe()


def blocking_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    results = _AXE.run(page)
    return [
        f"{page.url} [{violation['impact']}] {violation['id']}: "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def switch_language(page: Page, language: str) -> None:
    """Choose `language` with the switch in the bar, unless it is the current one."""
    page.set_viewport_size({"width": WIDTHS["laptop"], "height": HEIGHT})
    if language == "en":
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
