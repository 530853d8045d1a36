"""The admin page of emails the relay parked ("Email chưa gửi được"), and retrying them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tasks.mail import SmtpMailer, SmtpSettings
from tasks.relay import run_pass
from tasks.runtime import runtime
from tests.support.mail import POISONED_EMAIL, Inbox
from tests.support.pages import csrf_token, sign_in
from tests.support.world import World, legacy, ticket_done
from web.extensions import db
from workflow import credentials
from workflow.models import Employee, Notification, SipCredential, User

BROKEN_ADDRESS = "the recipient&#39;s email address is not a valid address"


@pytest.fixture
def relay_pass(app: Flask, smtp: tuple[int, Inbox]) -> Iterator[tuple[Inbox, object]]:
    """One pass of the relay, mailing through the real SMTP server, and its inbox."""
    port, inbox = smtp
    deps = runtime(app)

    def run() -> None:
        deps.mailer = SmtpMailer(SmtpSettings("127.0.0.1", port))
        try:
            run_pass(app, deps)
        finally:
            deps.mailer = None
        db.session.rollback()

    yield inbox, run


def signed_in_as(app: Flask, email: str) -> FlaskClient:
    """A browser signed in with `email`."""
    client = app.test_client()
    sign_in(client, email)
    return client


def parked(app: Flask, world: World) -> None:
    """A letter to an employee and a notice to a user, both with an address on two lines."""
    legacy(Employee, world.employee_ids[8], email=POISONED_EMAIL)
    legacy(User, world.other_approver_id, email="approver2@test.vn\nBcc: x@evil.vn")
    ticket_done(app, world, 8, world.other_approver_id)


def test_admins_see_parked_emails_and_retry_them_once_the_data_is_fixed(
    app: Flask, world: World, relay_pass: tuple[Inbox, object]
) -> None:
    inbox, run = relay_pass
    parked(app, world)
    run()  # type: ignore[operator]
    admin = signed_in_as(app, world.emails["admin"])

    page = admin.get("/admin/emails").get_data(as_text=True)
    assert 'id="parked-emails-link"' in page  # the count in the navigation
    assert re.search(r'id="parked-emails-link">\s*<i [^>]*></i> Email chưa gửi được '
                     r'<span[^>]*>2<', page)
    assert page.count(BROKEN_ADDRESS) == 2
    assert "Liên kết mật khẩu SIP" in page and "Thông báo: Gửi phiếu" in page
    assert "mail\npoison@x.vn" in page and "Người Duyệt Khác" in page
    english = admin.get("/admin/emails?lang=en").get_data(as_text=True)
    assert "Undelivered emails" in english and "SIP password link" in english

    # The admin fixes the employee's address on the employee page, then retries the letter
    token = csrf_token(admin, "/admin/emails")
    employee = db.session.get_one(Employee, world.employee_ids[8])
    saved = admin.post(f"/admin/employees/{employee.id}", data={
        "department_id": str(employee.department_id), "full_name": employee.full_name,
        "email": "NV8@Test.VN", "active": "y", "csrf_token": token})
    assert saved.status_code == 302
    letter = db.session.scalars(select(SipCredential)).one()
    retried = admin.post(f"/admin/emails/letter/{letter.id}/retry", data={"csrf_token": token},
                         follow_redirects=True).get_data(as_text=True)
    assert "Sẽ gửi lại 1 email trong giây lát." in retried
    assert retried.count(BROKEN_ADDRESS) == 1
    run()  # type: ignore[operator]
    sent = [message for message in inbox.messages if message["X-RcptTo"] == "NV8@test.vn"]
    assert len(sent) == 1
    link = re.search(r"/credentials/open#([\w-]+)", sent[0].get_payload(decode=True).decode())
    assert link and credentials.status_by_link(db.session, link.group(1)).state == "pending"

    # The user's address is fixed too (it is stored in lower case); "retry all" sends it
    legacy(User, world.other_approver_id, email="approver2@test.vn")
    retried = admin.post("/admin/emails/retry", data={"csrf_token": token},
                         follow_redirects=True).get_data(as_text=True)
    assert "Mọi email đều đã gửi được." in retried and 'id="parked-emails-link"' not in retried
    run()  # type: ignore[operator]
    assert [message["X-RcptTo"] for message in inbox.messages].count("approver2@test.vn") == 1
    assert db.session.scalars(select(Notification).where(
        Notification.emailed_at.is_(None), Notification.superseded_at.is_(None))).all() == []


def test_a_retry_of_still_broken_data_parks_it_again(
    app: Flask, world: World, relay_pass: tuple[Inbox, object]
) -> None:
    _inbox, run = relay_pass
    parked(app, world)
    run()  # type: ignore[operator]
    admin = signed_in_as(app, world.emails["admin"])
    admin.post("/admin/emails/retry", data={"csrf_token": csrf_token(admin, "/admin/emails")})
    assert db.session.scalars(select(SipCredential.email_error)).one() is None
    run()  # type: ignore[operator]
    assert admin.get("/admin/emails").get_data(as_text=True).count(BROKEN_ADDRESS) == 2


@pytest.mark.parametrize("role", ["requester", "approver"])
def test_only_admins_see_or_retry_parked_emails(
    app: Flask, world: World, relay_pass: tuple[Inbox, object], role: str
) -> None:
    _inbox, run = relay_pass
    parked(app, world)
    run()  # type: ignore[operator]
    client = signed_in_as(app, world.emails[role])
    token = csrf_token(client, "/agents")
    assert client.get("/admin/emails").status_code == 403
    letter = db.session.scalars(select(SipCredential)).one()
    assert client.post(f"/admin/emails/letter/{letter.id}/retry",
                       data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/emails/retry", data={"csrf_token": token}).status_code == 403
    assert 'id="parked-emails-link"' not in client.get("/agents").get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(select(SipCredential.email_error)).one() is not None
