"""The Web phone page (/my/phone) without a browser: who is offered it, what it is given, and
the policy that lets it reach the switchboard's WebSocket; on both databases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from tests.support.apps import build_app
from tests.support.credentials import provisioned
from tests.support.pages import csrf_token, sign_in
from tests.support.world import World
from web.extensions import db
from workflow.models import Agent, Employee

WS_URL = "wss://pbx.example.vn:8443"
NAV_LINK = 'href="/my/phone"'


@pytest.fixture
def configured(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app with the web phone configured."""
    monkeypatch.setitem(app.config, "WEBPHONE_WS_URL", WS_URL)
    monkeypatch.setitem(app.config, "WEBPHONE_SECRET", "a-shared-secret-for-tests")
    return app


def agent_of_requester(app: Flask, world: World) -> Agent:
    """An active agent for the employee whose email is the requester's."""
    agent = provisioned(app, world, employee=0, extension="5123")
    db.session.execute(update(Employee).where(Employee.id == agent.employee_id)
                       .values(email=world.emails["requester"].upper()))
    db.session.commit()
    return agent


def test_an_agent_holder_is_offered_the_web_phone_with_its_extension(
        configured: Flask, world: World) -> None:
    agent_of_requester(configured, world)
    client = configured.test_client()
    sign_in(client, world.emails["requester"])
    home = client.get("/agents").get_data(as_text=True)
    assert NAV_LINK in home and "Điện thoại web" in home
    response = client.get("/my/phone")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Máy lẻ 5123" in page
    assert 'data-credentials-url="/my/webphone/credentials"' in page
    assert "/static/vendor/jssip/jssip.min.js" in page and "/static/webphone.js" in page
    texts_json = re.search(r'<script type="application/json" id="phone-texts">(.*?)</script>',
                           page, re.S)
    assert texts_json is not None
    texts = json.loads(texts_json.group(1))
    assert texts["refusals"]["Outside Working Hours"].startswith("Ngoài giờ làm việc")
    assert texts["registered"] == "Sẵn sàng nhận và gọi"
    # No password of any kind is put in the page: the script asks for time-limited ones.
    assert "password" not in page.split('<main id="main"')[1].lower()


def test_the_page_speaks_english_when_chosen(configured: Flask, world: World) -> None:
    agent_of_requester(configured, world)
    client = configured.test_client()
    sign_in(client, world.emails["requester"])
    client.post("/language", data={"language": "en", "next": "/my/phone",
                                   "csrf_token": csrf_token(client, "/my/phone")})
    page = client.get("/my/phone").get_data(as_text=True)
    assert "<title>Web phone" in page and "Extension 5123" in page
    texts_json = re.search(r'id="phone-texts">(.*?)</script>', page, re.S)
    assert texts_json is not None
    texts = json.loads(texts_json.group(1))
    assert texts["refusals"]["Outgoing Calls Not Allowed"] == (
        "Your extension may not make outside calls.")


def test_someone_without_an_active_agent_is_not_offered_it(
        configured: Flask, world: World) -> None:
    client = configured.test_client()
    sign_in(client, world.emails["approver"])
    assert NAV_LINK not in client.get("/agents").get_data(as_text=True)
    response = client.get("/my/phone")
    assert response.status_code == 404
    assert "Bạn không có máy lẻ đang hoạt động" in response.get_data(as_text=True)
    assert client.get("/my/phone/history").status_code == 404


def test_a_revoked_agent_is_no_longer_offered_it(configured: Flask, world: World) -> None:
    agent = agent_of_requester(configured, world)
    db.session.execute(update(Agent).where(Agent.id == agent.id).values(status="revoked"))
    db.session.commit()
    client = configured.test_client()
    sign_in(client, world.emails["requester"])
    assert client.get("/my/phone").status_code == 404


def test_without_configuration_the_page_says_so(app: Flask, world: World) -> None:
    agent_of_requester(app, world)
    client = app.test_client()
    sign_in(client, world.emails["requester"])
    page = client.get("/my/phone").get_data(as_text=True)
    assert "chưa được cấu hình cho điện thoại web" in page
    assert "jssip.min.js" not in page


def test_the_history_lists_the_phone_systems_records(configured: Flask, world: World) -> None:
    agent_of_requester(configured, world)
    client = configured.test_client()
    sign_in(client, world.emails["requester"])
    response = client.get("/my/phone/history")
    assert response.status_code == 200
    assert 'id="call-history"' in response.get_data(as_text=True)


def test_pages_may_open_the_configured_websocket_only(tmp_path: Path) -> None:
    with_phone = build_app(f"sqlite:///{tmp_path / 'phone.db'}", WEBPHONE_WS_URL=WS_URL)
    policy = with_phone.test_client().get("/login").headers["Content-Security-Policy"]
    assert f"connect-src 'self' {WS_URL}" in policy
    without = build_app(f"sqlite:///{tmp_path / 'plain.db'}")
    assert "connect-src" not in without.test_client().get("/login").headers[
        "Content-Security-Policy"]
