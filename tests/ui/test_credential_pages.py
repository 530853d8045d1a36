"""SIP passwords shown once: the one-time link, the employee's own page, the admin's hand-over,
and the change ticket that issues a new password; on both databases, without a browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tasks.relay import expire_once
from tasks.runtime import runtime
from tests.support.api import ApiClient
from tests.support.credentials import (
    EMPLOYEE_EMAIL,
    PRIVATE,
    SHOW,
    digest_on_switchboard,
    latest,
    provisioned,
    sha256,
    signed_in_with,
    stored,
    with_email,
)
from tests.support.pages import csrf_token, filing
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow import credentials
from workflow.models import Agent, SipCredential, Ticket, utcnow
from workflow.tickets.submission import TicketKind

SEEN = "Mật khẩu đã được xem lúc"
EXPIRED = "Liên kết đã hết hạn lúc"
SUPERSEDED = "Mật khẩu này đã được thay bằng một mật khẩu mới hơn."
INVALID = "Liên kết không hợp lệ"
WITHDRAWN = "Tài khoản đã ngừng cấp, mật khẩu không còn dùng được."
NOTHING_PENDING = "Không có mật khẩu nào đang chờ nhân viên xem."
NOTHING_TO_CHANGE = "Phiếu đổi tài khoản phải thay đổi số máy lẻ, định tuyến hoặc mật khẩu SIP."


def link_to(agent: Agent) -> str:
    """A new one-time link (its path) to the agent's pending password."""
    return f"/credentials/{credentials.new_link(db.session, latest(agent).id)}"


def shown(page: str, element: str) -> str:
    """The text of the revealed detail with id `element` (sip-username, sip-domain,
    sip-password)."""
    found = re.search(rf'id="{element}">([^<]+)<', page)
    assert found, f"no #{element} on the page"
    return found.group(1)


def press_show(client: FlaskClient, path: str) -> tuple[int, str, dict[str, str]]:
    """Open a page with a "Hiện mật khẩu" form and post it; status, body and headers.

    A link with its token after "#" is opened as a browser does: the page's script posts the
    token, and the button posts it again.
    """
    if "#" in path:
        page, token = path.split("#", 1)
        fields = {"csrf_token": csrf_token(client, page), "token": token}
        looked = client.post(page, data=fields)
        assert looked.status_code in (200, 404, 409)
        response = client.post("/credentials/reveal", data=fields)
    else:
        response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    return response.status_code, response.get_data(as_text=True), dict(response.headers)


def test_opening_a_link_does_not_use_it_and_the_button_shows_the_password_once(
    app: Flask, world: World
) -> None:
    agent = provisioned(app, world)
    issued = latest(agent)
    assert issued.state == "pending"
    assert issued.expires_at - issued.created_at == timedelta(hours=72)
    path = link_to(agent)
    visitor = app.test_client()  # nobody signed in

    # Opening the link (as a mail scanner would, twice) shows whose it is, not the password
    for _ in range(2):
        opened = visitor.get(path)
        page = opened.get_data(as_text=True)
        assert opened.status_code == 200
        assert "Nhân viên 0-0" in page and SHOW in page
        assert 'id="sip-password"' not in page
        assert {name: opened.headers.get(name) for name in PRIVATE} == PRIVATE
    assert latest(agent).state == "pending"
    assert stored(issued.id).secret is not None

    # The button shows the account, the domain and the password the switchboard was given
    status, page, headers = press_show(visitor, path)
    assert status == 200
    assert {name: headers.get(name) for name in PRIVATE} == PRIVATE
    assert shown(page, "sip-username") == agent.sip_username
    assert shown(page, "sip-domain") == app.config["SIP_DOMAIN"]
    password = shown(page, "sip-password")
    assert len(password) >= 20
    assert sha256(password) == digest_on_switchboard(agent)
    # And it is wiped from the database the moment it is shown
    row = stored(issued.id)
    assert (row.state, row.secret) == ("revealed", None)
    assert row.revealed_at is not None

    # A second press, or another browser, gets nothing but when it was seen
    again = visitor.post(path, data={"csrf_token": csrf_token(visitor, path)})
    assert again.status_code == 409
    assert SEEN in again.get_data(as_text=True) and password not in again.get_data(as_text=True)
    elsewhere = app.test_client()
    status, page, _ = press_show(elsewhere, path)
    assert status == 409 and SEEN in page and password not in page
    later = elsewhere.get(path).get_data(as_text=True)
    assert SEEN in later and SHOW not in later


def test_pages_with_a_password_or_a_live_link_send_their_address_to_no_other_site(
    app: Flask, world: World
) -> None:
    agent = provisioned(app, world)
    employee = with_email(app, world)
    admin = signed_in_with(app, world.emails["admin"])
    handed = admin.post(f"/agents/{agent.id}/credential-link",
                        data={"csrf_token": csrf_token(admin, f"/agents/{agent.id}")})
    assert handed.status_code == 200
    path = link_to(agent)
    visitor = app.test_client()
    policies = {
        "hand-over": handed.headers.get("Referrer-Policy"),
        "link": visitor.get(path).headers.get("Referrer-Policy"),
        "my passwords": employee.get("/my/credentials").headers.get("Referrer-Policy"),
        "revealed": press_show(visitor, path)[2].get("Referrer-Policy"),
    }
    # same-origin, not no-referrer: over HTTPS the CSRF check wants the Referer of the
    # reveal button's own POST, and the pages load nothing from other origins (the CSP).
    assert policies == dict.fromkeys(policies, "same-origin")


def test_an_unknown_link_is_not_found(app: Flask, world: World) -> None:
    provisioned(app, world)
    client = app.test_client()
    response = client.get("/credentials/not-a-real-token")
    assert response.status_code == 404
    assert INVALID in response.get_data(as_text=True)
    posted = client.post("/credentials/not-a-real-token",
                         data={"csrf_token": csrf_token(client, "/login")})
    assert posted.status_code == 404
    assert 'id="sip-password"' not in posted.get_data(as_text=True)


def test_an_expired_link_says_when_and_shows_nothing(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    path = link_to(agent)
    issued = latest(agent)
    db.session.execute(update(SipCredential).where(SipCredential.id == issued.id)
                       .values(expires_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    client = app.test_client()
    page = client.get(path).get_data(as_text=True)
    assert EXPIRED in page and SHOW not in page
    posted = client.post(path, data={"csrf_token": csrf_token(client, "/login")})
    assert posted.status_code == 409
    assert EXPIRED in posted.get_data(as_text=True)
    assert 'id="sip-password"' not in posted.get_data(as_text=True)
    assert latest(agent).state == "expired"
    # The relay's pass wipes it for good; an admin can no longer hand it over
    assert stored(issued.id).secret is not None
    expire_once(runtime(app))
    row = stored(issued.id)
    assert (row.state, row.secret) == ("expired", None)
    admin = signed_in_with(app, world.emails["admin"])
    handed = admin.post(f"/agents/{agent.id}/credential-link",
                        data={"csrf_token": csrf_token(admin, f"/agents/{agent.id}")})
    assert handed.status_code == 409 and NOTHING_PENDING in handed.get_data(as_text=True)


def test_a_revoked_account_withdraws_its_unseen_password(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    issued = latest(agent)
    path = link_to(agent)
    provision(app, world, submit(world, kind=TicketKind.REVOKE))
    row = stored(issued.id)
    assert (row.state, row.secret) == ("withdrawn", None)
    client = app.test_client()
    page = client.get(path).get_data(as_text=True)
    assert WITHDRAWN in page and SHOW not in page
    posted = client.post(path, data={"csrf_token": csrf_token(client, "/login")})
    assert posted.status_code == 409 and 'id="sip-password"' not in posted.get_data(as_text=True)


def test_a_newer_link_makes_the_older_one_invalid(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    older, newer = link_to(agent), link_to(agent)
    client = app.test_client()
    gone = client.get(older)
    assert gone.status_code == 404 and INVALID in gone.get_data(as_text=True)
    status, _, _ = press_show(client, newer)
    assert status == 200
    assert client.post(older, data={"csrf_token": csrf_token(client, "/login")}
                       ).status_code == 404


def test_the_link_page_speaks_english(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    path = link_to(agent)
    client = app.test_client()
    client.post("/language", data={"language": "en", "next": path,
                                   "csrf_token": csrf_token(client, "/login")})
    page = client.get(path).get_data(as_text=True)
    assert "The SIP account of Nhân viên 0-0 is ready." in page
    assert "Show the password" in page and SHOW not in page
    status, page, _ = press_show(client, path)
    assert status == 200
    assert "Save this password now: this page will not show it again." in page
    assert "SIP username" in page and "SIP domain" in page
    status, page, _ = press_show(client, path)
    assert status == 409 and "The password was seen at" in page
    missing = client.get("/credentials/unknown").get_data(as_text=True)
    assert "This link is not valid" in missing


def test_a_signed_in_employee_sees_their_pending_password_once(
    app: Flask, world: World
) -> None:
    agent = provisioned(app, world)
    issued = latest(agent)
    employee = with_email(app, world)
    colleague = signed_in_with(app, world.emails["requester"])

    # The navigation bar tells the employee, on every page, and nobody else
    for path in ("/agents", "/tickets", "/notifications"):
        page = employee.get(path).get_data(as_text=True)
        assert re.search(r'id="pending-passwords">\s*<i class="bi bi-key" aria-hidden="true"></i>'
                         r'\s*Mật khẩu SIP chờ xem\s*<span class="badge text-bg-light">1</span>',
                         page), path
    assert 'id="pending-passwords"' not in colleague.get("/agents").get_data(as_text=True)
    mine = employee.get("/my/credentials")
    page = mine.get_data(as_text=True)
    assert {name: mine.headers.get(name) for name in PRIVATE} == PRIVATE
    assert agent.sip_username in page
    assert f'action="/my/credentials/{issued.id}"' in page

    # Someone else cannot reveal it
    status, page, _ = press_show(colleague, f"/my/credentials/{issued.id}")
    assert status == 409 and 'id="sip-password"' not in page
    assert latest(agent).state == "pending"

    # The employee can, once, and then the badge is gone
    response = employee.post(f"/my/credentials/{issued.id}",
                             data={"csrf_token": csrf_token(employee, "/my/credentials")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert {name: response.headers.get(name) for name in PRIVATE} == PRIVATE
    assert shown(page, "sip-username") == agent.sip_username
    assert sha256(shown(page, "sip-password")) == digest_on_switchboard(agent)
    assert latest(agent).state == "revealed"
    assert 'id="pending-passwords"' not in employee.get("/agents").get_data(as_text=True)
    assert "Không có mật khẩu nào đang chờ bạn xem." in employee.get(
        "/my/credentials").get_data(as_text=True)
    again = employee.post(f"/my/credentials/{issued.id}",
                          data={"csrf_token": csrf_token(employee, "/my/credentials")})
    assert again.status_code == 409 and 'id="sip-password"' not in again.get_data(as_text=True)
    assert credentials.pending_for(db.session, EMPLOYEE_EMAIL) == []


def test_an_admin_hands_over_a_new_link_and_the_emailed_one_stops_working(
    app: Flask, world: World
) -> None:
    agent = provisioned(app, world)
    emailed = link_to(agent)
    admin = signed_in_with(app, world.emails["admin"])
    page = admin.get(f"/agents/{agent.id}").get_data(as_text=True)
    state = re.search(r'id="credential-state">(.*?)</dd>', page, re.S)
    assert state and "Chờ nhân viên xem; liên kết hết hạn lúc" in state.group(1)
    assert "Tạo liên kết một lần" in state.group(1)
    assert f'action="/agents/{agent.id}/credential-link"' in page

    handed = admin.post(f"/agents/{agent.id}/credential-link",
                        data={"csrf_token": csrf_token(admin, f"/agents/{agent.id}")})
    assert handed.status_code == 200
    assert {name: handed.headers.get(name) for name in PRIVATE} == PRIVATE
    link = shown(handed.get_data(as_text=True), "handover-link")
    # The address the emails use, whatever host the admin came in by
    base = app.config["BASE_URL"]
    assert re.fullmatch(re.escape(base) + r"/credentials/open#[\w-]{40,}", link), link
    path = link.removeprefix(base)

    visitor = app.test_client()
    assert visitor.get(emailed).status_code == 404
    status, page, _ = press_show(visitor, path)
    assert status == 200
    assert sha256(shown(page, "sip-password")) == digest_on_switchboard(agent)

    # Once seen, the agent page says so and there is nothing left to hand over
    page = admin.get(f"/agents/{agent.id}").get_data(as_text=True)
    state = re.search(r'id="credential-state">(.*?)</dd>', page, re.S)
    assert state and SEEN in state.group(1) and "Tạo liên kết một lần" not in page
    again = admin.post(f"/agents/{agent.id}/credential-link",
                       data={"csrf_token": csrf_token(admin, f"/agents/{agent.id}")})
    assert again.status_code == 409
    assert NOTHING_PENDING in again.get_data(as_text=True)
    assert 'id="handover-link"' not in again.get_data(as_text=True)


def test_only_an_admin_may_hand_over_a_link(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    emailed = link_to(agent)
    requester = signed_in_with(app, world.emails["requester"])
    page = requester.get(f"/agents/{agent.id}").get_data(as_text=True)
    assert 'id="credential-state"' in page and "Chờ nhân viên xem" in page
    assert "Tạo liên kết một lần" not in page and "/credential-link" not in page
    refused = requester.post(f"/agents/{agent.id}/credential-link",
                             data={"csrf_token": csrf_token(requester, f"/agents/{agent.id}")})
    assert refused.status_code == 403
    assert 'id="handover-link"' not in refused.get_data(as_text=True)
    # The link the employee already has still works
    assert app.test_client().get(emailed).status_code == 200
    assert latest(agent).state == "pending"


def test_a_change_ticket_that_only_resets_the_password_issues_a_new_one(
    app: Flask, world: World
) -> None:
    agent = provisioned(app, world)
    first = latest(agent)
    old_link = link_to(agent)
    old_digest = digest_on_switchboard(agent)
    requester = signed_in_with(app, world.emails["requester"])

    # A change that changes nothing is refused; the reset box alone is a change
    nothing = requester.post("/agents/setup", data=filing(
        requester, world, kind="change", extension="5001"))
    assert nothing.status_code == 200
    assert NOTHING_TO_CHANGE in nothing.get_data(as_text=True)
    filed = requester.post("/agents/setup", data=filing(
        requester, world, kind="change", extension="5001", reset_password="y"))
    assert filed.status_code == 302
    db.session.expire_all()
    ticket = db.session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    assert ticket is not None
    assert (ticket.kind, ticket.reset_password, ticket.extension) == ("change", True, None)
    assert latest(agent).id == first.id  # nothing is issued before the approval

    provision(app, world, db.session.get_one(Ticket, ticket.id))
    second = latest(agent)
    assert second.id != first.id and second.state == "pending"
    assert stored(first.id).state == "superseded" and stored(first.id).secret is None
    # The extension stays, the switchboard has the new password, the old link says why
    db.session.expire_all()
    assert db.session.get_one(Agent, agent.id).extension == "5001"
    assert digest_on_switchboard(agent) != old_digest
    client = app.test_client()
    old = client.get(old_link).get_data(as_text=True)
    assert SUPERSEDED in old and SHOW not in old
    assert client.post(old_link, data={"csrf_token": csrf_token(client, "/login")}
                       ).status_code == 409
    status, page, _ = press_show(client, link_to(agent))
    assert status == 200
    assert sha256(shown(page, "sip-password")) == digest_on_switchboard(agent)


def test_a_change_without_the_reset_box_keeps_the_password(app: Flask, world: World) -> None:
    agent = provisioned(app, world)
    first = latest(agent)
    requester = signed_in_with(app, world.emails["requester"])
    page = requester.get("/agents/setup").get_data(as_text=True)
    assert 'id="reset-password"' in page and 'id="reset_password"' in page
    assert "Cấp mật khẩu SIP mới" in page
    # An extension change without the box keeps the password
    provision(app, world, submit(world, kind=TicketKind.CHANGE, extension="5002"))
    assert latest(agent).id == first.id and latest(agent).state == "pending"


def test_the_api_files_a_password_reset(
    app: Flask, api: Callable[[str], ApiClient], world: World
) -> None:
    agent = provisioned(app, world)
    first = latest(agent)
    client = api("requester")
    empty = client.post("/api/v1/tickets", {"kind": "change", "employee_id": world.employee_ids[0]})
    assert empty.status_code == 422
    response = client.post("/api/v1/tickets", {
        "kind": "change", "employee_id": world.employee_ids[0], "reset_password": True})
    assert response.status_code == 201, response.json
    assert response.json["reset_password"] is True
    provision(app, world, db.session.get_one(Ticket, response.json["id"]))
    assert latest(agent).id != first.id
    assert stored(first.id).state == "superseded"
