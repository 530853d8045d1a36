"""A page on another origin of the same site cannot act with an approver's session cookie."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page

from tests.support.browser import APPROVER, REQUESTER, api_login, free_employee

#: Three ways another origin can make a browser write with its cookie, without a preflight.
ATTACKS = {
    "form": """<form id="f" method="post" action="{target}"><input name="comment" value="x">
               </form><script>document.getElementById('f').submit()</script>""",
    "text": """<form id="f" method="post" enctype="text/plain" action="{target}">
               <input name='{{"comment":"x","a":"' value='"}}'></form>
               <script>document.getElementById('f').submit()</script>""",
    "fetch": """<script>fetch("{target}", {{method: "POST", mode: "no-cors",
               credentials: "include", body: '{{"comment": "x"}}',
               headers: {{"Content-Type": "text/plain"}}}})
               .finally(() => document.title = "sent")</script>""",
}


@pytest.fixture
def other_origin() -> Iterator[dict[str, str]]:
    """A web server on another port of 127.0.0.1 serving the page put in the dict."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get("html", "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pages["url"] = f"http://127.0.0.1:{server.server_address[1]}/"
    yield pages
    server.shutdown()
    server.server_close()


def submitted_ticket(page: Page) -> int:
    """A new-extension ticket filed by the requester for an employee without an agent or a
    ticket, in a department in the approver's scope."""
    api_login(page, REQUESTER)
    filed = page.request.post("/api/v1/tickets", data={
        "kind": "new", "employee_id": free_employee(page)})
    assert filed.status == 201, filed.text()
    return int(filed.json()["id"])


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_another_origin_cannot_approve_with_the_approvers_session(
    page: Page, other_origin: dict[str, str], live_server: str, attack: str
) -> None:
    # Given a submitted ticket and an approver signed in, in this browser
    ticket_id = submitted_ticket(page)
    api_login(page, APPROVER)
    target = f"{live_server}/api/v1/tickets/{ticket_id}/approve"

    # When a page on another port of the same host makes the browser post to the approval
    other_origin["html"] = f"<!doctype html><title>x</title>{ATTACKS[attack].format(target=target)}"
    posts = []
    page.on("response", lambda response: posts.append(response.status)
            if response.url == target else None)
    with page.expect_response(target):
        page.goto(other_origin["url"])

    # Then the request reached the app and was refused, and the ticket is still waiting
    assert posts == [415]
    ticket = page.request.get(f"/api/v1/tickets/{ticket_id}").json()
    assert ticket["state"] == "submitted"

    # While the approver's own JSON request with the same cookie approves it
    approved = page.request.post(f"/api/v1/tickets/{ticket_id}/approve", data={"comment": "ok"})
    assert approved.status == 200, approved.text()
