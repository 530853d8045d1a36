"""Signing in under attack: failed attempts throttled per address and per account (pages, API
and bearer tokens alike), unknown emails as slow as known ones, sessions that end everywhere,
and no forged cookies because production refuses a weak SECRET_KEY."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import web.auth
from tests.support.apps import build_app, fresh_pg_database, wipe, worker_suffix
from tests.support.world import PASSWORD, World, make_world
from web import create_app
from web.auth import THROTTLE_KEY
from web.config import ConfigurationError
from web.extensions import db
from workflow.domain.rules import Role
from workflow.models import SignInRefusal, User
from workflow.people.accounts import change_access, create_token, save_user
from workflow.people.refusals import refusal_key, refuse_address

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
#: Low limits, so that a test reaches them in a few attempts.
LIMITS = {"LOGIN_FAILURES_PER_ADDRESS": "6 per minute",
          "LOGIN_FAILURES_PER_ACCOUNT": "3 per minute", "TRUSTED_PROXIES": 1}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def throttled_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[Flask]:
    """An app behind one trusted proxy with low sign-in limits, on each database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('throttle')}/throttle.db"
    else:
        url = fresh_pg_database(f"agentdesk_throttle_{worker_suffix()}")
    app = build_app(url, **LIMITS)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(throttled_app: Flask) -> Iterator[Flask]:
    """The throttled app, empty, with fresh counters, inside an app context."""
    wipe(throttled_app)
    throttled_app.extensions[THROTTLE_KEY].reset()
    with throttled_app.app_context():
        yield throttled_app
        db.session.remove()


def api_sign_in(client: FlaskClient, email: str, password: str, address: str) -> int:
    """POST /api/v1/session from `address` (as the trusted proxy reports it); the status."""
    response = client.post("/api/v1/session", json={"email": email, "password": password},
                           headers={"X-Forwarded-For": address})
    return response.status_code


def page_sign_in(client: FlaskClient, email: str, password: str, address: str
                 ) -> tuple[int, str]:
    """Post the sign-in form from `address`; the status and the page."""
    headers = {"X-Forwarded-For": address}
    token = CSRF.search(client.get("/login", headers=headers).get_data(as_text=True))
    assert token
    response = client.post("/login", headers=headers, data={
        "email": email, "password": password, "csrf_token": token.group(1)})
    return response.status_code, response.get_data(as_text=True)


def test_successful_sign_ins_are_never_counted(app: Flask, world: World) -> None:
    client = app.test_client()
    statuses = {api_sign_in(client, world.emails["requester"], PASSWORD, "203.0.113.5")
                for _ in range(20)}
    assert statuses == {200}


def test_an_address_that_keeps_failing_is_refused_before_any_password_is_checked(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    emails = [f"guess{n}@test.vn" for n in range(6)]
    assert [api_sign_in(client, email, "wrong", "198.51.100.7") for email in emails] == [401] * 6
    response = client.post("/api/v1/session", headers={"X-Forwarded-For": "198.51.100.7"},
                           json={"email": world.emails["admin"], "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"] == "too_many_sign_ins"
    assert "phút" in response.get_json()["message"]
    # Others in the same office (another address) are not affected.
    assert api_sign_in(client, world.emails["admin"], PASSWORD, "198.51.100.8") == 200


def test_an_account_guessed_from_many_addresses_is_refused_for_a_while(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    target = world.emails["approver"]
    assert [api_sign_in(client, target, "wrong", f"192.0.2.{n}") for n in range(3)] == [401] * 3
    assert api_sign_in(client, target, PASSWORD, "192.0.2.99") == 429
    assert api_sign_in(client, target.upper(), PASSWORD, "192.0.2.98") == 429
    assert api_sign_in(client, world.emails["requester"], PASSWORD, "192.0.2.97") == 200


def test_the_pages_and_the_api_share_one_policy(app: Flask, world: World) -> None:
    client = app.test_client()
    target = world.emails["requester"]
    assert api_sign_in(client, target, "wrong", "203.0.113.9") == 401
    assert page_sign_in(client, target, "wrong", "203.0.113.10")[0] == 200
    assert api_sign_in(client, target, "wrong", "203.0.113.11") == 401
    status, page = page_sign_in(client, target, PASSWORD, "203.0.113.12")
    assert status == 429
    assert "Đăng nhập sai quá nhiều lần" in page


def test_wrong_api_tokens_count_as_failed_sign_ins(app: Flask, world: World) -> None:
    client = app.test_client()
    headers = {"X-Forwarded-For": "198.51.100.20", "Authorization": "Bearer not-a-token"}
    statuses = [client.get("/api/v1/tickets", headers=headers).status_code for _ in range(7)]
    assert statuses == [401] * 6 + [429]
    good = create_token(db.session, world.emails["requester"])
    assert client.get("/api/v1/tickets", headers={
        "X-Forwarded-For": "198.51.100.20", "Authorization": f"Bearer {good}"}).status_code == 429
    assert client.get("/api/v1/tickets", headers={
        "X-Forwarded-For": "198.51.100.21", "Authorization": f"Bearer {good}"}).status_code == 200


def test_a_refusal_reached_in_one_web_process_holds_in_every_other(
    app: Flask, world: World
) -> None:
    other = build_app(app.config["SQLALCHEMY_DATABASE_URI"], **LIMITS)  # its own memory
    good = create_token(db.session, world.emails["requester"])
    client = app.test_client()
    wrong = {"X-Forwarded-For": "198.51.100.30", "Authorization": "Bearer not-a-token"}
    assert [client.get("/api/v1/tickets", headers=wrong).status_code for _ in range(6)] == [401] * 6
    until = db.session.scalar(select(SignInRefusal.until).where(
        SignInRefusal.address == "198.51.100.30"))
    assert until is not None and until > datetime.now(UTC)
    refused = other.test_client().get("/api/v1/tickets", headers={
        "X-Forwarded-For": "198.51.100.30", "Authorization": f"Bearer {good}"})
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_sign_ins"
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    assert other.test_client().get("/api/v1/tickets", headers={
        "X-Forwarded-For": "198.51.100.31", "Authorization": f"Bearer {good}"}).status_code == 200
    with other.app_context():
        db.engine.dispose()


def test_a_scrapers_metrics_token_is_no_sign_in(app: Flask, world: World) -> None:
    good = create_token(db.session, world.emails["requester"])
    client = app.test_client()
    app.config["METRICS_TOKEN"] = "scrape-token"
    try:
        scrapes = [client.get("/metrics", headers={
            "X-Forwarded-For": "198.51.100.90", "Authorization": f"Bearer {token}"}).status_code
            for token in ["scrape-token"] * 8 + ["wrong"] * 8]
    finally:
        app.config["METRICS_TOKEN"] = None
    probes = {client.get(path, headers={"X-Forwarded-For": "198.51.100.90",
                                        "Authorization": "Bearer wrong"}).status_code
              for path in ("/healthz", "/readyz")}
    assert scrapes == [200] * 8 + [401] * 8
    assert probes <= {200, 503}
    assert client.get("/api/v1/tickets", headers={
        "X-Forwarded-For": "198.51.100.90", "Authorization": f"Bearer {good}"}).status_code == 200
    assert db.session.scalar(select(SignInRefusal.address)) is None


def test_a_refusal_that_ended_refuses_no_more(app: Flask, world: World) -> None:
    good = create_token(db.session, world.emails["requester"])
    long_address = "2001:db8::1%" + "x" * 100  # what only a careless proxy passes on
    for address in ("198.51.100.40", long_address):
        refuse_address(db.session, address, datetime.now(UTC) + timedelta(minutes=5))
    refuse_address(db.session, "198.51.100.41", datetime.now(UTC) - timedelta(seconds=1))
    client = app.test_client()
    statuses = [client.get("/api/v1/tickets", headers={
        "X-Forwarded-For": address, "Authorization": f"Bearer {good}"}).status_code
        for address in ("198.51.100.40", long_address, "198.51.100.41")]
    assert statuses == [429, 429, 200]
    assert set(db.session.scalars(select(SignInRefusal.address))) == {
        "198.51.100.40", refusal_key(long_address)}  # the ended one was forgotten


def test_without_a_trusted_proxy_a_client_cannot_choose_its_address(
    sqlite_app: Flask, tmp_path: Path
) -> None:
    app = build_app(f"sqlite:///{tmp_path}/direct.db", LOGIN_FAILURES_PER_ADDRESS="3 per minute")
    with app.app_context():
        make_world()
        client = app.test_client()
        statuses = [api_sign_in(client, "nobody@test.vn", "wrong", f"10.9.9.{n}")
                    for n in range(4)]
        assert statuses == [401, 401, 401, 429]


def test_an_unknown_email_costs_a_password_hash_like_a_known_one(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = web.auth.check_password_hash

    def counting(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(web.auth, "check_password_hash", counting)
    client = app.test_client()
    assert api_sign_in(client, "nobody@test.vn", PASSWORD, "203.0.113.30") == 401
    assert api_sign_in(client, world.emails["requester"], "wrong", "203.0.113.31") == 401
    assert len(checked) == 2
    decoy, real_hash = checked
    assert decoy.split("$")[0] == web.auth.hash_password("x").split("$")[0]  # same method
    assert real_hash != decoy


def signed_in_copy(app: Flask, email: str) -> tuple[FlaskClient, FlaskClient]:
    """A browser signed in through the page, and a second client with its cookie copied."""
    browser = app.test_client()
    status, _ = page_sign_in(browser, email, PASSWORD, "203.0.113.40")
    assert status == 302
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/agents").status_code == 200
    assert thief.get("/api/v1/tickets").status_code == 200
    return browser, thief


def test_signing_out_ends_every_copy_of_the_session(app: Flask, world: World) -> None:
    browser, thief = signed_in_copy(app, world.emails["requester"])
    token = CSRF.search(browser.get("/agents").get_data(as_text=True))
    assert token
    browser.post("/logout", data={"csrf_token": token.group(1)})
    assert thief.get("/agents").status_code == 302
    assert thief.get("/api/v1/tickets").status_code == 401


def test_signing_out_through_the_api_ends_every_copy_too(app: Flask, world: World) -> None:
    browser, thief = signed_in_copy(app, world.emails["requester"])
    assert browser.delete("/api/v1/session", json={}).status_code == 204
    assert thief.get("/api/v1/tickets").status_code == 401


def test_deactivation_and_a_new_password_end_sessions(app: Flask, world: World) -> None:
    _, thief = signed_in_copy(app, world.emails["approver"])
    change_access(db.session, world.approver_id, Role.APPROVER, [], active=False,
                  actor_id=world.admin_id)
    change_access(db.session, world.approver_id, Role.APPROVER, [], active=True,
                  actor_id=world.admin_id)
    assert thief.get("/api/v1/tickets").status_code == 401
    _, thief = signed_in_copy(app, world.emails["requester"])
    save_user(db.session, world.emails["requester"], Role.REQUESTER,
              web.auth.hash_password("a new password"))
    assert thief.get("/api/v1/tickets").status_code == 401
    assert db.session.get(User, world.requester_id) is not None


def test_a_cookie_of_the_old_form_is_not_accepted(app: Flask, world: World) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(world.admin_id)  # the form before session epochs
    assert client.get("/api/v1/tickets").status_code == 401


# --- SECRET_KEY ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "dev-only-change-me", "short-key"])
def test_production_refuses_to_start_without_a_strong_secret_key(
    key: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1/postgres"}
    if key is not None:
        settings["SECRET_KEY"] = key
    with pytest.raises(ConfigurationError, match="SECRET_KEY must be set"):
        create_app(settings)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"REDIS_URL": "redis://127.0.0.1:6379/0", **settings,
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_starts_with_a_strong_secret_key_and_the_trial_without(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1/x",
                       "SECRET_KEY": "k" * 43}).config["SECRET_KEY"] == "k" * 43
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": None}).config[
        "SECRET_KEY"] == "dev-only-change-me"


def test_the_commands_say_why_they_refuse_to_start(tmp_path: Path) -> None:
    agentdesk = Path(sys.executable).parent / "agentdesk"
    result = subprocess.run(
        [str(agentdesk) if agentdesk.exists() else "agentdesk", "db", "current"],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://postgres@127.0.0.1/postgres",
             "AGENTDESK_INSTANCE": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "SECRET_KEY must be set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_refused_address_keeps_being_refused_in_the_callers_language(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    for n in range(7):
        api_sign_in(client, f"guess{n}@test.vn", "wrong", "198.51.100.50")
    english = client.post("/api/v1/session", json={"email": world.emails["admin"],
                                                   "password": PASSWORD},
                          headers={"X-Forwarded-For": "198.51.100.50", "Accept-Language": "en"})
    assert english.status_code == 429
    assert english.get_json()["message"].startswith("Too many failed sign-ins")
    assert int(english.headers["Retry-After"]) > 0
    page = client.post("/login", data={"email": world.emails["admin"], "password": PASSWORD},
                       headers={"X-Forwarded-For": "198.51.100.50"})
    assert page.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in page.get_data(as_text=True)
    token = create_token(db.session, world.emails["admin"])
    assert client.get("/api/v1/tickets", headers={
        "X-Forwarded-For": "198.51.100.50", "Authorization": f"Bearer {token}"}).status_code == 429
    assert client.get("/agents", headers={"X-Forwarded-For": "198.51.100.50"}
                      ).status_code == 302  # pages without a password are not refused


def test_the_openapi_document_lists_the_refusals_of_signing_in(app: Flask) -> None:
    document = app.test_client().get("/api/openapi.json").get_json()
    sign_in = document["paths"]["/api/v1/session"]["post"]["responses"]
    assert {"401", "429"} <= set(sign_in)
    approve = document["paths"]["/api/v1/tickets/{ticket_id}/approve"]["post"]["responses"]
    assert {"401", "403", "415", "429"} <= set(approve)
    listing = document["paths"]["/api/v1/tickets"]["get"]["responses"]
    assert "429" in listing and "415" not in listing
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "error", "message"}


def test_every_refusal_of_signing_in_has_the_documented_error_body(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    bodies = []
    # The 6th failure from an address reaches its limit: the next are refused before the app
    # (SignInGate); the 4th try at one account from new addresses is refused by the app.
    attempts = [(f"g{n}@test.vn", "198.51.100.60") for n in range(8)]
    attempts += [(world.emails["approver"], f"198.51.100.{70 + n}") for n in range(4)]
    for email, address in attempts:
        response = client.post("/api/v1/session", json={"email": email, "password": "x"},
                               headers={"X-Forwarded-For": address})
        bodies.append((response.status_code, response.get_json()))
    assert [status for status, _ in bodies] == [401] * 6 + [429] * 2 + [401] * 3 + [429]
    for status, body in bodies[6:8] + bodies[11:]:
        assert status == 429
        assert set(body) == {"code", "error", "message"} and body["code"] == 429
        assert body["error"] == "too_many_sign_ins"
