"""The first run as the README tells it: `agentdesk seed-demo && agentdesk serve`, then sign in.

The fixtures run exactly those two commands (`demo_database`, `live_server`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import APPROVER, REQUESTER, login
from tests.support.processes import wait_for

Screenshot = Callable[..., Path]
README = Path(__file__).resolve().parents[2] / "README.md"


def first_command() -> str:
    """The first shell block of the README."""
    found = re.search(r"```bash\n(.*?)```", README.read_text(), re.S)
    assert found is not None, "the README has no shell block"
    return found.group(1)


def test_the_readme_starts_in_a_virtual_environment_with_the_demo() -> None:
    # When a newcomer reads the README's first command
    command = first_command()

    # Then it makes a virtual environment (Debian's Python refuses pip outside one), installs,
    # seeds the demo and serves: what these tests' fixtures run
    assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    assert "python -m pip install -e ." in command
    assert command.rstrip().endswith("agentdesk seed-demo && agentdesk serve")
    assert "3.11" in README.read_text().split("```bash", 1)[0]


def test_after_signing_in_the_first_screen_lists_the_demo_agents(
    page: Page, screenshot: Screenshot
) -> None:
    # When the requester signs in on the freshly seeded demo
    login(page, REQUESTER)

    # Then the first screen is the agent list, with the demo's agents ringing both ways
    expect(page).to_have_url(re.compile(r"/agents$"))
    rows = page.locator("tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 20
    expect(page.locator("tbody")).to_contain_text("App và Web đồng thời")
    expect(page.locator("tbody")).to_contain_text("Số ưu tiên 0")
    screenshot(page, "first-screen")


def test_the_approver_finds_tickets_waiting_and_one_that_failed(page: Page) -> None:
    # When the approver signs in on the demo
    login(page, APPROVER)

    # Then tickets wait for a decision, and one failed on the phone system with its error
    waiting = page.request.get("/api/v1/tickets?state=submitted").json()
    assert waiting["total"] >= 2
    failed = page.request.get("/api/v1/tickets?state=failed").json()["items"]
    assert len(failed) == 1 and "unreachable" in failed[0]["last_error"]
    rejected = page.request.get("/api/v1/tickets?state=rejected").json()["items"]
    assert len(rejected) == 1


def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The log of this module's `agentdesk serve` (see `live_server`: one per module)."""
    stem = Path(__file__).stem
    found = [each for each in tmp_path_factory.getbasetemp().glob(f"e2e-server-{stem}*")
             if re.fullmatch(rf"e2e-server-{stem}\d+", each.name)]
    assert len(found) == 1, found
    return found[0] / "server.log"


def test_serve_logs_each_request_without_query_strings_or_tokens(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # When a browser opens a password link of the earlier form and reads the API description
    # with a query
    page.request.get("/credentials/Zx81SecretLinkToken?lang=en")
    assert page.request.get("/api/openapi.json?probe=Qq42Secret").status == 200

    # Then the server's log has a line for each, with neither the token nor the query
    log = server_log(tmp_path_factory)

    def both_logged() -> str | None:
        text = log.read_text(errors="replace")
        return text if " GET /api/openapi.json 200 " in text else None

    text = wait_for(both_logged, "the access line of GET /api/openapi.json", timeout=10)
    # one JSON object a line; the access lines name their logger
    access = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(line["logger"] == "agentdesk.access"
               and re.match(r"127\.0\.0\.1 GET /credentials/<token> \d{3} ", line["message"])
               for line in access)
    assert "Zx81" not in text and "Qq42" not in text
