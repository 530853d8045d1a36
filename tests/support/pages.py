"""The web pages without a browser: signing in, CSRF tokens, the setup form, the CSV import."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.support.world import PASSWORD, World
from web.extensions import db
from workflow.models import Ticket

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on `path`."""
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str) -> str:
    """Post the sign-in form; returns where it redirected to (or the page it showed)."""
    response = client.post("/login", data={
        "email": email, "password": password, "csrf_token": csrf_token(client), **extra})
    if response.status_code == 302:
        return response.headers["Location"]
    return response.get_data(as_text=True)


def signed_in_as(app: Flask, world: World, role: str) -> FlaskClient:
    """A browser signed in with that role."""
    client = app.test_client()
    sign_in(client, world.emails[role])
    return client


def in_english(client: FlaskClient) -> None:
    """Switch the browser's pages to English with the switch in the bar."""
    client.post("/language", data={"language": "en", "next": "/calling/check",
                                   "csrf_token": csrf_token(client, "/calling/check")})


def text_of(response: TestResponse) -> str:
    """A response's body as text."""
    return response.get_data(as_text=True)


@pytest.fixture
def browsers(app: Flask, world: World) -> dict[str, FlaskClient]:
    """One signed-in browser per role of the world."""
    clients = {}
    for role in ("requester", "approver", "other_approver", "admin"):
        client = app.test_client()
        sign_in(client, world.emails[role])
        clients[role] = client
    return clients


def page_of(client: FlaskClient, path: str) -> str:
    """The HTML of a page (asserting it answered 200)."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def state_of(ticket_id: int) -> str:
    """The ticket's state now."""
    db.session.expire_all()
    return db.session.get_one(Ticket, ticket_id).state


KEY = re.compile(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"')


def setup_page(client: FlaskClient, world: World, employee: int = 0) -> str:
    """The form for the world's first branch and department, with an employee picked."""
    return client.get(f"/agents/setup?branch_id={world.branch_ids[0]}"
                      f"&department_id={world.department_ids[0]}"
                      f"&employee_id={world.employee_ids[employee]}").get_data(as_text=True)


def filing(client: FlaskClient, world: World, employee: int = 0, **fields: str) -> dict[str, str]:
    """What the form posts for one ticket (a new-account one unless `fields` say otherwise)."""
    page = setup_page(client, world, employee)
    key = KEY.search(page)
    assert key, "the form carries an idempotency key"
    return {"csrf_token": csrf_token(client, "/agents/setup"), "idempotency_key": key.group(1),
            "branch_id": str(world.branch_ids[0]), "department_id": str(world.department_ids[0]),
            "employee_id": str(world.employee_ids[employee]), "kind": "new",
            "routing_type": "app_web", "submit_exit": "1", **fields}


def tickets() -> int:
    """How many tickets exist."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Ticket)) or 0


def windows_vietnamese(text: str) -> bytes:
    """`text` as Excel saves it on Vietnamese Windows: cp1258, tones as combining marks."""
    encoded = bytearray()
    for char in text:
        try:
            encoded += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            for mark in marks:  # e.g. ộ: the code page has ô, and the dot below as a mark
                composed = unicodedata.normalize("NFC", base + mark)
                if len(composed) == 1 and composed.encode("cp1258", errors="ignore"):
                    base = composed
                    marks.remove(mark)
                    break
            encoded += (base + "".join(marks)).encode("cp1258")
    return bytes(encoded)


def upload(client: FlaskClient, text: str, windows: bool = False,
           button: str = "preview") -> str:
    """Post a CSV file (UTF-8 with BOM, or as Vietnamese Windows saves it); returns the page."""
    data = {"csrf_token": csrf_token(client, "/admin/employees/import"), button: "1",
            "file": (io.BytesIO(windows_vietnamese(text) if windows else
                                text.encode("utf-8-sig")), "nhan-vien.csv")}
    return client.post("/admin/employees/import", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
