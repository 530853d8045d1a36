"""With the session cookie, the API changes data only for JSON requests (or with the CSRF token
header): what another site can make a browser send is refused."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.support.world import PASSWORD, World, submit
from web.extensions import db
from workflow.models import Ticket
from workflow.people.accounts import create_token

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def cookie_client(app: Flask, email: str) -> FlaskClient:
    """A client signed in through the API, holding only the session cookie."""
    client = app.test_client()
    assert client.post("/api/v1/session", json={"email": email, "password": PASSWORD}
                       ).status_code == 200
    return client


def state_of(ticket_id: int) -> str:
    """The ticket's state as stored."""
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket.state


def test_a_form_post_with_the_cookie_changes_nothing(app: Flask, world: World) -> None:
    ticket = submit(world)
    client = cookie_client(app, world.emails["approver"])
    for body in ({"data": {"comment": "x"}},
                 {"data": '{"comment": "x"}', "content_type": "text/plain"},
                 {"data": b"", "content_type": "multipart/form-data; boundary=x"},
                 {}):
        response = client.post(f"/api/v1/tickets/{ticket.id}/approve", **body)  # type: ignore[arg-type]
        assert response.status_code == 415, body
        assert response.get_json()["error"] == "json_required"
        assert "application/json" in response.get_json()["message"]
    assert client.post("/api/v1/notifications/1/read", data={}).status_code == 415
    assert client.delete("/api/v1/session").status_code == 415
    assert state_of(ticket.id) == "submitted"


def test_json_with_the_cookie_is_accepted(app: Flask, world: World) -> None:
    ticket = submit(world)
    client = cookie_client(app, world.emails["approver"])
    response = client.post(f"/api/v1/tickets/{ticket.id}/approve", json={"comment": "ok"})
    assert response.status_code == 200
    assert state_of(ticket.id) == "approved"


def test_the_csrf_token_header_allows_a_write_without_json(app: Flask, world: World) -> None:
    ticket = submit(world)
    client = cookie_client(app, world.emails["requester"])
    token = CSRF.search(client.get("/agents/setup").get_data(as_text=True))
    assert token
    wrong = client.post(f"/api/v1/tickets/{ticket.id}/cancel", headers={"X-CSRFToken": "nope"})
    assert wrong.status_code == 403
    assert state_of(ticket.id) == "submitted"
    right = client.post(f"/api/v1/tickets/{ticket.id}/cancel",
                        headers={"X-CSRFToken": token.group(1)})
    assert right.status_code == 200
    assert state_of(ticket.id) == "cancelled"


def test_bearer_tokens_are_not_ambient_and_need_no_json(app: Flask, world: World) -> None:
    ticket = submit(world)
    token = create_token(db.session, world.emails["approver"])
    response = app.test_client().post(f"/api/v1/tickets/{ticket.id}/approve",
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert state_of(ticket.id) == "approved"


def test_anonymous_requests_are_unaffected(app: Flask, world: World) -> None:
    ticket = submit(world)
    client = app.test_client()
    assert client.post(f"/api/v1/tickets/{ticket.id}/approve", data={"a": "b"}).status_code == 401
    assert state_of(ticket.id) == "submitted"
