"""SIP passwords: provisioned accounts, their newest password, one-time links and who sees them."""

from __future__ import annotations

import hashlib

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tasks.runtime import runtime
from tests.support.pages import sign_in
from tests.support.world import PASSWORD_HASH, World, provision, submit
from web.extensions import db
from workflow import credentials
from workflow.credentials import CredentialState
from workflow.domain.rules import Role
from workflow.models import Agent, DirectoryEntry, Employee, SipCredential
from workflow.people.accounts import save_user

#: Headers of every page that shows a password or a live link (Referrer-Policy has its own
#: test in tests/ui/test_credential_pages.py).
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


#: The email of the employee who signs in to see their own password.
EMPLOYEE_EMAIL = "nhanvien@test.vn"


SHOW = "Hiện mật khẩu"


def provisioned(app: Flask, world: World, employee: int = 0, extension: str = "5001") -> Agent:
    """A new-account ticket for the employee, approved and provisioned; their agent."""
    provision(app, world, submit(world, employee_id=world.employee_ids[employee],
                                 extension=extension))
    return db.session.scalars(select(Agent).where(Agent.extension == extension)).one()


def latest(agent: Agent) -> credentials.CredentialStatus:
    """The newest password issued for the agent's account."""
    found = credentials.latest_for(db.session, agent.sip_username)
    assert found is not None, f"no password was issued for {agent.sip_username}"
    return found


def stored(credential_id: int) -> SipCredential:
    """The credential row as the database holds it now."""
    db.session.expire_all()
    return db.session.get_one(SipCredential, credential_id)


def digest_on_switchboard(agent: Agent) -> str:
    """The password digest the built-in directory keeps for the agent's account."""
    db.session.expire_all()
    return db.session.scalars(select(DirectoryEntry.secret_digest).where(
        DirectoryEntry.sip_username == agent.sip_username)).one()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def signed_in_with(app: Flask, email: str) -> FlaskClient:
    """A browser signed in with `email`."""
    client = app.test_client()
    sign_in(client, email)
    return client


def with_email(app: Flask, world: World, employee: int = 0) -> FlaskClient:
    """The employee given an email, and a user account with it, signed in."""
    db.session.execute(update(Employee).where(Employee.id == world.employee_ids[employee])
                       .values(email="NhanVien@Test.VN"))  # matched without regard to case
    db.session.commit()
    save_user(db.session, EMPLOYEE_EMAIL, Role.REQUESTER, PASSWORD_HASH, "Nhân Viên")
    return signed_in_with(app, EMPLOYEE_EMAIL)


def revealed_password(app: Flask, sip_username: str) -> str:
    """The pending password of an account, through a new one-time link."""
    latest = credentials.latest_for(db.session, sip_username)
    assert latest is not None and latest.state is CredentialState.PENDING
    token = credentials.new_link(db.session, latest.id)
    return credentials.reveal_by_link(db.session, runtime(app).provisioning.vault,
                                      token).password
