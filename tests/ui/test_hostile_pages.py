"""Hostile input on the pages: never a 500; refused with the message on the error page or next
to its field; `next` never carries a line break into a Location header."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.pages import csrf_token, filing, sign_in, tickets
from tests.support.world import World

REFUSED_VI = "Có ký tự không được phép (ký tự điều khiển hoặc mã Unicode lỗi)."


@pytest.fixture
def requester(app: Flask, world: World) -> FlaskClient:
    """A browser signed in as the requester."""
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    return client


@pytest.mark.parametrize("target", ["/agents\r\nSet-Cookie: stolen=1", "/agents\nX: y",
                                    "/\\evil.example/", "/agents\t"])
def test_a_line_break_or_backslash_in_next_falls_back_on_sign_in(
    app: Flask, world: World, target: str
) -> None:
    client = app.test_client()
    assert sign_in(client, world.emails["requester"], next=target) == "/agents"


@pytest.mark.parametrize("target", ["/agents\r\nSet-Cookie: stolen=1", "/\\evil.example/"])
def test_a_line_break_or_backslash_in_next_falls_back_on_the_language_switch(
    app: Flask, world: World, target: str
) -> None:
    client = app.test_client()
    response = client.post("/language", data={
        "language": "en", "next": target, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Set-Cookie: stolen" not in str(response.headers)


def test_a_bad_character_in_the_login_email_is_refused_never_a_500(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={
        "email": f"{world.emails['requester']}\x00", "password": "x", "csrf_token": token})
    assert response.status_code == 422
    assert REFUSED_VI in response.get_data(as_text=True)
    # A lone surrogate cannot travel in a form: its escaped bytes stay escaped (an invalid
    # email), raw undecodable bytes leave the form unreadable (no CSRF token: 400).
    for body, status in ((b"email=%ED%A0%80%40test.vn", 200), (b"email=\xed\xa0\x80", 400)):
        response = client.post("/login", data=body + b"&password=x&csrf_token=" + token.encode(),
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == status, body


def test_free_text_keeps_its_lines_and_one_line_fields_refuse_them_next_to_the_field(
    requester: FlaskClient, world: World
) -> None:
    response = requester.post("/agents/setup", data=filing(requester, world, extension="5001\n"))
    assert response.status_code == 200
    assert "không được chứa ký tự điều khiển hay ký tự xuống dòng (U+000A)." in \
        response.get_data(as_text=True)
    assert tickets() == 0
    filed = requester.post("/agents/setup", data=filing(requester, world, extension="5001",
                                                        details="Dòng 1\r\nDòng 2"))
    assert filed.status_code == 302 and tickets() == 1


def test_a_control_character_in_a_form_or_search_is_named_on_the_error_page(
    app: Flask, requester: FlaskClient, world: World
) -> None:
    response = requester.post("/agents/setup", data=filing(requester, world, details="a\x00b"))
    assert response.status_code == 422
    assert REFUSED_VI in response.get_data(as_text=True)
    assert tickets() == 0
    admin = app.test_client()
    sign_in(admin, world.emails["admin"])
    search = admin.get("/admin/employees?q=a%00b")
    assert search.status_code == 422 and REFUSED_VI in search.get_data(as_text=True)


def test_huge_or_foreign_numbers_in_page_queries_are_ignored_not_a_500(
    app: Flask, requester: FlaskClient, world: World
) -> None:
    huge = "9" * 5000
    assert requester.get(f"/tickets?page={huge}").status_code == 200
    assert requester.get("/tickets?page=１").status_code == 200
    assert requester.get(f"/agents/setup?branch_id={huge}&employee_id=2147483648").status_code \
        == 200
    approver = app.test_client()
    sign_in(approver, world.emails["approver"])
    assert approver.get(f"/approvals?page={huge}&branch_id={huge}").status_code == 200
    admin = app.test_client()
    sign_in(admin, world.emails["admin"])
    assert admin.get(f"/admin/employees?department_id={huge}&page={huge}").status_code == 200
    assert requester.get("/tickets/１").status_code == 404
