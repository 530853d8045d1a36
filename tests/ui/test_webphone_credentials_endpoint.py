"""POST /my/webphone/credentials: the Web phone's ephemeral credentials for the signed-in
employee's active agent only, CSRF-checked, never the stored SIP password."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.support.credentials import (
    EMPLOYEE_EMAIL,
    latest,
    provisioned,
    signed_in_with,
    with_email,
)
from tests.support.pages import csrf_token
from tests.support.world import PASSWORD_HASH, World, actor
from web.extensions import db
from workflow.domain.rules import Role
from workflow.models import Agent, utcnow
from workflow.people.accounts import save_user
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

SECRET = "webphone-test-secret"
WS_URL = "wss://pbx.example.vn:8443"
PATH = "/my/webphone/credentials"


@pytest.fixture
def configured(app: Flask) -> Iterator[Flask]:
    """The app with the Web phone set up (and put back as it was afterwards)."""
    before = {key: app.config.get(key) for key in
              ("WEBPHONE_SECRET", "WEBPHONE_WS_URL", "WEBPHONE_CREDENTIAL_SECONDS")}
    app.config.update(WEBPHONE_SECRET=SECRET, WEBPHONE_WS_URL=WS_URL,
                      WEBPHONE_CREDENTIAL_SECONDS=600)
    yield app
    app.config.update(before)


def post(client: FlaskClient, language: str = "vi") -> tuple[int, dict[str, str], dict[str, str]]:
    """POST the endpoint with the CSRF token of a signed-in page; status, JSON, headers."""
    token = csrf_token(client, "/my/credentials")
    response = client.post(f"{PATH}?lang={language}", headers={"X-CSRFToken": token})
    return response.status_code, response.get_json(silent=True) or {}, dict(response.headers)


def test_the_agent_gets_credentials_kamailio_accepts_for_its_sip_user_only(
        configured: Flask, world: World) -> None:
    agent = provisioned(configured, world)
    client = with_email(configured, world)
    before = utcnow()
    status, body, headers = post(client)
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    domain = configured.config["SIP_DOMAIN"]
    assert body["ws_url"] == WS_URL
    assert body["sip_uri"] == f"sip:{agent.sip_username}@{domain}"
    assert body["extension"] == agent.extension == "5001"
    assert body["display_name"] == agent.employee.full_name
    expiry, _, user = body["authorization_user"].partition(":")
    assert user == agent.sip_username
    assert datetime.fromisoformat(body["expires_at"]).timestamp() == int(expiry)
    lifetime = datetime.fromisoformat(body["expires_at"]) - before
    assert timedelta(seconds=598) <= lifetime <= timedelta(seconds=601)
    expected = base64.b64encode(hmac.new(SECRET.encode(), body["authorization_user"].encode(),
                                         hashlib.sha1).digest()).decode()
    assert body["password"] == expected
    # The SIP password issued for the employee's phones is not what the browser gets.
    assert latest(agent).state == "pending"
    assert set(body) == {"ws_url", "sip_uri", "authorization_user", "password", "expires_at",
                         "display_name", "extension"}


def test_someone_holding_no_active_agent_is_told_why_in_their_language(
        configured: Flask, world: World) -> None:
    save_user(db.session, EMPLOYEE_EMAIL, Role.REQUESTER, PASSWORD_HASH, "Nhân Viên")
    client = signed_in_with(configured, EMPLOYEE_EMAIL)
    status, body, _ = post(client, "vi")
    assert status == 404
    assert body["error"] == "webphone_no_agent" and "password" not in body
    assert "chưa có tài khoản agent đang hoạt động" in body["message"]


def test_a_revoked_agent_gets_no_credentials(configured: Flask, world: World) -> None:
    agent = provisioned(configured, world)
    client = with_email(configured, world)
    db.session.execute(update(Agent).where(Agent.id == agent.id).values(status="revoked"))
    db.session.commit()
    status, body, _ = post(client)
    assert (status, body["error"]) == (404, "webphone_no_agent")


def test_no_credentials_once_a_revoke_is_approved(configured: Flask, world: World) -> None:
    agent = provisioned(configured, world)
    client = with_email(configured, world)
    ticket = submit_ticket(db.session, actor(world.requester_id),
                           TicketRequest(TicketKind.REVOKE, agent.employee_id, None))
    assert post(client)[0] == 200  # asked for, not decided
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    # Still active until the workers apply it, but the account is going.
    assert db.session.get_one(Agent, agent.id).status == "active"
    status, body, _ = post(client)
    assert (status, body["error"]) == (404, "webphone_no_agent")


def test_nothing_is_issued_while_the_web_phone_is_not_configured(
        app: Flask, world: World) -> None:
    provisioned(app, world)
    client = with_email(app, world)
    app.config.update(WEBPHONE_SECRET=None, WEBPHONE_WS_URL=None)
    status, body, _ = post(client, "en")
    assert status == 404
    assert body == {"error": "webphone_not_configured",
                    "message": "The web phone is not set up on this system."}


def test_the_endpoint_needs_a_session_and_the_csrf_token(configured: Flask,
                                                         world: World) -> None:
    provisioned(configured, world)
    anonymous = configured.test_client()
    refused = anonymous.post(PATH, headers={"X-CSRFToken": csrf_token(anonymous)})
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    client = with_email(configured, world)
    response = client.post(PATH)
    assert response.status_code == 400
    assert b"authorization_user" not in response.data
