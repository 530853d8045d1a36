"""The letters that bring employees the one-time link to a new SIP password, over real SMTP."""

from __future__ import annotations

import re
from datetime import timedelta

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tasks.mail import SmtpMailer, SmtpSettings
from tests.support.mail import Inbox
from tests.support.processes import free_port
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow import credentials
from workflow.agents import credential_letters
from workflow.credentials import CredentialState
from workflow.domain.errors import NotFound
from workflow.models import Employee, SipCredential, User

#: Where the letters' links point.
BASE_URL = "https://agentdesk.example.vn"


def employee_with_email(world: World, email: str = "nhanvien@test.vn") -> None:
    """Give the world's first employee an email address."""
    db.session.execute(update(Employee).where(Employee.id == world.employee_ids[0])
                       .values(email=email))
    db.session.commit()


def mailer(port: int) -> SmtpMailer:
    """A mailer for the SMTP server on `port`."""
    return SmtpMailer(SmtpSettings("127.0.0.1", port, base_url=BASE_URL))


def token_in(message: object) -> str:
    """The one-time link's token in a letter."""
    body = message.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    found = re.search(re.escape(BASE_URL) + r"/credentials/open#([\w-]+)", body)
    assert found, body
    return found.group(1)


class CheckingInbox(Inbox):
    """An inbox that opens each link as the letter arrives, from its own connection."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = db.engine
        self.states: list[str] = []

    def handle_message(self, message: object) -> None:
        super().handle_message(message)  # type: ignore[arg-type]
        with Session(self.engine) as session:
            try:
                self.states.append(credentials.status_by_link(session, token_in(message)).state)
            except NotFound:
                self.states.append("unknown link")


def test_each_new_password_is_mailed_once_with_a_link_that_works_on_arrival(
    app: Flask, world: World
) -> None:
    # The employee also signs in to agentdesk, in English: the letter follows that choice
    employee_with_email(world, world.emails["requester"].upper())
    db.session.execute(update(User).where(User.email == world.emails["requester"])
                       .values(language="en"))
    provision(app, world, submit(world, extension="5001"))
    inbox = CheckingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert credential_letters.email_links(db.session, mailer(port)) == 1
        assert credential_letters.email_links(db.session, mailer(port)) == 0  # once
    finally:
        controller.stop()
    letter = inbox.messages[0]
    assert letter["To"] == world.emails["requester"].upper()
    assert letter["Subject"] == "Your phone system (SIP) sign-in details"
    assert inbox.states == [CredentialState.PENDING]
    issued = db.session.scalars(select(SipCredential)).one()
    assert issued.emailed_at is not None and issued.mailing_until is None
    password = credentials.reveal_by_link(db.session, app.extensions["agentdesk"]
                                          .provisioning.vault, token_in(letter)).password
    assert password not in letter.as_string()


def test_letters_wait_while_mail_is_down_and_go_on_the_next_pass(
    app: Flask, world: World, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    employee_with_email(world)
    provision(app, world, submit(world, extension="5001"))
    nobody_listens = free_port()
    assert credential_letters.email_links(db.session, mailer(nobody_listens)) == 0
    waiting = db.session.scalars(select(SipCredential)).one()
    db.session.refresh(waiting)
    assert waiting.emailed_at is None and waiting.mailing_until is None

    assert credential_letters.email_links(db.session, mailer(port)) == 1
    assert len(inbox.messages) == 1
    assert credentials.status_by_link(db.session, token_in(inbox.messages[0])).state == "pending"


def test_a_relay_that_died_mid_letter_leaves_it_to_the_next_one_after_its_claim(
    app: Flask, world: World, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    employee_with_email(world)
    provision(app, world, submit(world, extension="5001"))
    # A relay claimed the letter and died before sending it
    claimed = db.session.scalars(select(SipCredential)).one()
    db.session.execute(update(SipCredential).values(
        mailing_until=claimed.created_at + timedelta(hours=1)))
    db.session.commit()
    assert credential_letters.email_links(db.session, mailer(port)) == 0
    # Once its claim has run out, the letter goes with a new link
    db.session.execute(update(SipCredential).values(
        mailing_until=claimed.created_at - timedelta(seconds=1)))
    db.session.commit()
    assert credential_letters.email_links(db.session, mailer(port)) == 1
    assert credentials.status_by_link(db.session, token_in(inbox.messages[0])).state == "pending"


def test_an_employee_without_an_email_gets_no_letter(
    app: Flask, world: World, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    provision(app, world, submit(world, extension="5001"))
    assert credential_letters.email_links(db.session, mailer(port)) == 0
    assert inbox.messages == []
