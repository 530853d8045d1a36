"""Browser smoke tests of what the server offers today: the OpenAPI document, the JSON API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import APIResponse, Page, expect

from tests.support.browser import ADMIN, APPROVER, DEMO_PASSWORD, REQUESTER

Screenshot = Callable[..., Path]
ApiLogin = Callable[[Page, str, str], APIResponse]


def test_the_browser_shows_the_openapi_document_with_the_ticket_endpoints(
    page: Page, screenshot: Screenshot
) -> None:
    # When the browser opens the API description
    response = page.goto("/api/openapi.json")

    # Then it is JSON listing the ticket endpoints, shown as text in the page
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    document = json.loads(page.locator("body").inner_text())
    assert "/api/v1/tickets" in document["paths"]
    assert "/api/v1/session" in document["paths"]
    expect(page.locator("body")).to_contain_text('"/api/v1/tickets"')
    assert page.evaluate("navigator.language") == "vi-VN"
    assert screenshot(page, "openapi", full_page=False).stat().st_size > 0


def test_a_session_opened_through_the_api_serves_the_browser_too(
    page: Page, screenshot: Screenshot
) -> None:
    # Given a requester signed in through the JSON API from the page's context
    signed_in = page.request.post(
        "/api/v1/session", data={"email": REQUESTER, "password": DEMO_PASSWORD}
    )
    assert signed_in.status == 200, signed_in.text()
    assert signed_in.json()["email"] == REQUESTER
    session = [cookie for cookie in page.context.cookies() if cookie["name"] == "session"]
    assert len(session) == 1 and session[0]["httpOnly"]

    # When the same context lists the tickets
    tickets = page.request.get("/api/v1/tickets")

    # Then it is allowed, and lists the tickets the demo requester filed
    assert tickets.status == 200, tickets.text()
    listed = tickets.json()
    assert listed["total"] > 0 and {item["requester"]["email"] for item in listed["items"]} == {
        REQUESTER}

    # And the browser itself (navigation and fetch) carries the same cookie
    response = page.goto("/api/v1/tickets")
    assert response is not None and response.status == 200
    assert json.loads(page.locator("body").inner_text())["items"] == listed["items"]
    assert page.evaluate("fetch('/api/v1/tickets').then(response => response.status)") == 200
    screenshot(page, "tickets-signed-in")


def test_without_a_session_the_api_refuses_the_browser(page: Page) -> None:
    # When a browser that never signed in asks for the tickets
    response = page.goto("/api/v1/tickets")

    # Then it is told to authenticate
    assert response is not None and response.status == 401


def test_a_wrong_password_opens_no_session(page: Page) -> None:
    # When someone signs in with a wrong password
    response = page.request.post(
        "/api/v1/session", data={"email": REQUESTER, "password": "not-the-password"}
    )

    # Then it is refused and the context holds no session
    assert response.status == 401
    assert page.request.get("/api/v1/tickets").status == 401


@pytest.mark.parametrize("email", [REQUESTER, APPROVER, ADMIN])
def test_every_demo_user_can_sign_in(page: Page, api_login: ApiLogin, email: str) -> None:
    # When a demo user signs in with the demo password
    api_login(page, email, DEMO_PASSWORD)

    # Then their session is accepted by the API
    assert page.request.get("/api/v1/tickets").status == 200
