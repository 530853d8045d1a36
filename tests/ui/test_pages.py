"""The web pages: sign-in, language, security headers, rate limits and the agent list."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from tests.support.pages import csrf_token, sign_in
from tests.support.world import PASSWORD, World, provision, submit
from web.extensions import db
from web.ui import local_time
from workflow.models import User
from workflow.tickets.submission import TicketKind


def test_pages_send_anonymous_visitors_to_sign_in_and_back(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.get("/agents?status=active")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/agents?status=active"' in page
    landed = sign_in(client, world.emails["requester"], next="/agents?status=active")
    assert landed == "/agents?status=active"


def test_sign_in_never_redirects_off_site(app: Flask, world: World) -> None:
    client = app.test_client()
    assert sign_in(client, world.emails["requester"], next="https://evil.example/") == "/agents"
    client = app.test_client()
    assert sign_in(client, world.emails["requester"], next="//evil.example/x") == "/agents"


def test_a_wrong_password_is_refused_in_vietnamese_then_in_english(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    page = sign_in(client, world.emails["requester"], password="sai-mat-khau")
    assert "Email hoặc mật khẩu không đúng." in page
    assert 'value="' + world.emails["requester"] + '"' in page  # what was typed is kept
    client.get("/login?lang=en")
    page = client.post("/login?lang=en", data={
        "email": world.emails["requester"], "password": "wrong",
        "csrf_token": csrf_token(client, "/login?lang=en")}).get_data(as_text=True)
    assert "Wrong email or password." in page


def test_the_form_library_messages_are_translated_too(app: Flask, world: World) -> None:
    client = app.test_client()
    page = client.post("/login", data={"email": "", "password": "",
                                       "csrf_token": csrf_token(client)}).get_data(as_text=True)
    assert "This field is required." not in page
    assert "Bắt buộc" in page or "bắt buộc" in page


def test_a_form_without_its_csrf_token_is_refused(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.post("/login", data={"email": world.emails["requester"],
                                           "password": PASSWORD})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in response.get_data(as_text=True)
    sign_in(client, world.emails["requester"])
    assert client.post("/logout").status_code == 400
    assert client.get("/agents").status_code == 200  # still signed in


def test_signing_out_needs_the_token_and_ends_the_session(app: Flask, world: World) -> None:
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    token = csrf_token(client, "/agents")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/agents").status_code == 302


def test_the_language_switch_is_remembered_for_the_user(app: Flask, world: World) -> None:
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    assert "Danh sách Agent" in client.get("/agents").get_data(as_text=True)
    client.post("/language", data={"language": "en", "next": "/agents",
                                   "csrf_token": csrf_token(client, "/agents")})
    assert "Agent list" in client.get("/agents").get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.scalar(select(User.language).where(User.id == world.requester_id))
    assert saved == "en"
    other_browser = app.test_client()
    sign_in(other_browser, world.emails["requester"])
    assert "Agent list" in other_browser.get("/agents").get_data(as_text=True)


def test_errors_on_pages_are_pages_and_on_the_api_json(app: Flask, world: World) -> None:
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "Không tìm thấy." in missing.get_data(as_text=True)
    assert client.get("/api/v1/no-such-thing").mimetype == "application/json"


def test_pages_carry_security_headers(app: Flask, world: World) -> None:
    response = app.test_client().get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_bootstrap_is_served_by_the_app_itself(app: Flask, world: World) -> None:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    stylesheet = re.search(r'href="(/bootstrap/static/[^"]+\.css)"', page)
    assert stylesheet, "Bootstrap CSS must come from the app, not a CDN"
    assert client.get(stylesheet.group(1)).status_code == 200
    assert "cdn" not in page.lower()


def test_the_agent_list_searches_filters_and_pages(app: Flask, world: World) -> None:
    provision(app, world, submit(world, extension="5001"))
    provision(app, world, submit(world, employee_id=world.employee_ids[1], extension="5002",
                                 routing_type="phone", priority_number="0912345678",
                                 backup_number="0987654321"))
    provision(app, world, submit(world, kind=TicketKind.REVOKE))
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    everyone = client.get("/agents").get_data(as_text=True)
    assert "5001" in everyone and "5002" in everyone and "2 tài khoản agent" in everyone
    assert "0912 345 678" in everyone and "Đã ngừng cấp" in everyone
    active = client.get("/agents?status=active").get_data(as_text=True)
    assert "5002" in active and "5001" not in active
    found = client.get("/agents?q=5001").get_data(as_text=True)
    assert "5001" in found and "5002" not in found
    by_name = client.get("/agents?q=viên 0-1").get_data(as_text=True)  # Nhân viên 0-1
    assert "5002" in by_name and "5001" not in by_name
    by_routing = client.get("/agents?routing_type=phone").get_data(as_text=True)
    assert "5002" in by_routing and "5001" not in by_routing
    in_branch = client.get(f"/agents?branch_id={world.branch_ids[0]}").get_data(as_text=True)
    assert "5001" in in_branch and "5002" in in_branch
    elsewhere = client.get(f"/agents?branch_id={world.branch_ids[1]}").get_data(as_text=True)
    assert "Chưa có tài khoản agent nào khớp bộ lọc." in elsewhere
    in_department = client.get(f"/agents?department_id={world.department_ids[0]}")
    assert "5001" in in_department.get_data(as_text=True)
    other = client.get(f"/agents?department_id={world.department_ids[1]}").get_data(as_text=True)
    assert "Chưa có tài khoản agent nào khớp bộ lọc." in other


@pytest.mark.parametrize("query", ["page=0", "page=abc", "status=nope", "branch_id=x",
                                   "q=" + "x" * 500])
def test_bad_filters_show_a_message_not_an_error(app: Flask, world: World, query: str) -> None:
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    response = client.get(f"/agents?{query}")
    assert response.status_code == 200
    assert "invalid-feedback" in response.get_data(as_text=True)


def test_times_are_shown_in_the_organisations_time_zone(app: Flask) -> None:
    with app.test_request_context("/"):
        assert local_time(datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == "01/01/2026 07:00"
        assert local_time(datetime(2026, 1, 1, 17, 5, 9, tzinfo=UTC), seconds=True) == (
            "02/01/2026 00:05:09")
