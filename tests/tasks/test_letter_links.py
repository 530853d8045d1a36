"""The links a letter carries open the pages they name, under the configured public address."""

from __future__ import annotations

import re
from email.message import Message

from flask import Flask
from sqlalchemy import update

from tasks.mail import SmtpMailer, SmtpSettings
from tests.support.mail import Inbox
from tests.support.pages import sign_in
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.agents import credential_letters
from workflow.models import Employee
from workflow.tickets.notification_letters import claim_due_letters
from workflow.tickets.notifications import EMAIL_MAX_AGE

#: The public address the letters are configured with (not the test client's host).
BASE_URL = "https://agentdesk.example.vn/"


def path_under_base(link: str) -> str:
    """The path of a link, which must start with the public address."""
    assert link.startswith(BASE_URL.rstrip("/") + "/"), link
    return link.removeprefix(BASE_URL.rstrip("/"))


def test_a_notice_links_to_its_ticket_page(app: Flask, world: World) -> None:
    ticket = submit(world, extension="5001")
    letters = [letter for letter in claim_due_letters(db.session, BASE_URL, EMAIL_MAX_AGE, 100)
               if letter.ticket_id == ticket.id and letter.user_id == world.approver_id]
    db.session.rollback()
    assert len(letters) == 1
    browser = app.test_client()
    sign_in(browser, world.emails["approver"])

    page = browser.get(path_under_base(letters[0].link))

    assert page.status_code == 200
    assert f"#{ticket.id}" in page.get_data(as_text=True)
    assert 'class="col-sm-9 ticket-extension">5001<' in page.get_data(as_text=True)


def test_a_password_letter_links_to_the_page_that_opens_it(
    app: Flask, world: World, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    db.session.execute(update(Employee).where(Employee.id == world.employee_ids[0])
                       .values(email="nhanvien@test.vn"))
    db.session.commit()
    provision(app, world, submit(world, extension="5001"))
    mailer = SmtpMailer(SmtpSettings("127.0.0.1", port, base_url=BASE_URL))

    assert credential_letters.email_links(db.session, mailer) == 1

    body = body_of(inbox.messages[0])
    link = re.search(r"https://\S+", body)
    assert link, body
    path, _hash, token = path_under_base(link.group(0)).partition("#")
    assert token
    page = app.test_client().get(path)
    assert page.status_code == 200
    assert 'id="credential-link" action="/credentials/open"' in page.get_data(as_text=True)


def body_of(message: Message) -> str:
    """The decoded text of a one-part email."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()
