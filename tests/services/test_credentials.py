"""SIP passwords: issued on provisioning, sealed, shown once, reset by a change ticket."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tasks.relay import expire_once
from tasks.runtime import runtime
from tasks.vault import FernetCipher
from tests.support.world import World, make_world, problems_of, provision, submit
from web.extensions import db
from workflow import credentials
from workflow.credentials import CredentialState, Vault
from workflow.domain.errors import Conflict, NotFound, RuleViolation
from workflow.models import Agent, DirectoryEntry, SipCredential, utcnow
from workflow.tickets.submission import TicketKind


def provisioned_agent(app: Flask, world: World) -> Agent:
    """A new agent for the world's first employee, provisioned on the built-in directory."""
    provision(app, world, submit(world, extension="5001"))
    db.session.expire_all()
    return db.session.scalars(select(Agent)).one()


def vault(app: Flask) -> Vault:
    """The vault the app's workers seal passwords with."""
    return runtime(app).provisioning.vault


def digest_on_switchboard(sip_username: str) -> str:
    """What the built-in directory keeps of the account's password."""
    return db.session.scalars(select(DirectoryEntry.secret_digest).where(
        DirectoryEntry.sip_username == sip_username)).one()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_new_account_gets_a_sealed_password_that_a_link_shows_exactly_once(
    app: Flask, world: World
) -> None:
    agent = provisioned_agent(app, world)
    issued = db.session.scalars(select(SipCredential)).one()
    assert issued.state == "pending" and issued.sip_username == agent.sip_username
    token = credentials.new_link(db.session, issued.id)
    assert credentials.status_by_link(db.session, token).state is CredentialState.PENDING

    shown = credentials.reveal_by_link(db.session, vault(app), token)

    assert shown.sip_username == agent.sip_username
    assert shown.domain == app.config["SIP_DOMAIN"]
    assert digest_on_switchboard(agent.sip_username) == sha256(shown.password)
    db.session.expire_all()
    wiped = db.session.get_one(SipCredential, issued.id)
    assert wiped.secret is None and wiped.revealed_at is not None
    with pytest.raises(Conflict):
        credentials.reveal_by_link(db.session, vault(app), token)
    assert credentials.status_by_link(db.session, token).state is CredentialState.REVEALED


def test_the_database_never_holds_the_password_in_clear(app: Flask, world: World) -> None:
    agent = provisioned_agent(app, world)
    sealed = db.session.scalars(select(SipCredential.secret)).one()
    token = credentials.new_link(db.session, db.session.scalars(select(SipCredential.id)).one())
    password = credentials.reveal_by_link(db.session, vault(app), token).password
    assert sealed is not None and password not in sealed
    assert password not in digest_on_switchboard(agent.sip_username)


def test_only_the_newest_link_works(app: Flask, world: World) -> None:
    provisioned_agent(app, world)
    credential_id = db.session.scalars(select(SipCredential.id)).one()
    older = credentials.new_link(db.session, credential_id)
    newer = credentials.new_link(db.session, credential_id)
    with pytest.raises(NotFound):
        credentials.status_by_link(db.session, older)
    with pytest.raises(Conflict):
        credentials.reveal_by_link(db.session, vault(app), older)
    assert credentials.reveal_by_link(db.session, vault(app), newer).password


def test_an_unopened_password_expires_and_is_wiped(app: Flask, world: World) -> None:
    provisioned_agent(app, world)
    credential_id = db.session.scalars(select(SipCredential.id)).one()
    token = credentials.new_link(db.session, credential_id)
    db.session.execute(update(SipCredential).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    # Past its time the link says so at once, before the sweeper has wiped it
    assert credentials.status_by_link(db.session, token).state is CredentialState.EXPIRED
    with pytest.raises(Conflict):
        credentials.reveal_by_link(db.session, vault(app), token)

    expire_once(runtime(app))

    db.session.expire_all()
    expired = db.session.get_one(SipCredential, credential_id)
    assert expired.state == "expired" and expired.secret is None
    with pytest.raises(Conflict):
        credentials.new_link(db.session, credential_id)


def test_a_change_ticket_resets_the_password_and_supersedes_the_unseen_one(
    app: Flask, world: World
) -> None:
    agent = provisioned_agent(app, world)
    first = db.session.scalars(select(SipCredential)).one()
    old_link = credentials.new_link(db.session, first.id)
    old_digest = digest_on_switchboard(agent.sip_username)

    ticket = submit(world, kind=TicketKind.CHANGE, reset_password=True)
    assert ticket.reset_password is True and ticket.extension is None
    provision(app, world, ticket)

    db.session.expire_all()
    issued = db.session.scalars(select(SipCredential).order_by(SipCredential.id)).all()
    assert [each.state for each in issued] == ["superseded", "pending"]
    assert issued[0].secret is None and issued[1].ticket_id == ticket.id
    with pytest.raises(Conflict):
        credentials.reveal_by_link(db.session, vault(app), old_link)
    token = credentials.new_link(db.session, issued[1].id)
    password = credentials.reveal_by_link(db.session, vault(app), token).password
    assert digest_on_switchboard(agent.sip_username) == sha256(password) != old_digest


def test_a_change_ticket_must_change_something(app: Flask, world: World) -> None:
    provisioned_agent(app, world)
    with pytest.raises(RuleViolation) as refused:
        submit(world, kind=TicketKind.CHANGE)
    assert problems_of(refused)["extension"] == ["nothing_to_change"]


def test_a_change_that_keeps_the_password_issues_none(app: Flask, world: World) -> None:
    agent = provisioned_agent(app, world)
    before = digest_on_switchboard(agent.sip_username)
    provision(app, world, submit(world, kind=TicketKind.CHANGE, extension="5656"))
    db.session.expire_all()
    assert db.session.scalars(select(SipCredential.state)).all() == ["pending"]
    assert digest_on_switchboard(agent.sip_username) == before


def test_revoking_withdraws_an_unseen_password(app: Flask, world: World) -> None:
    provisioned_agent(app, world)
    provision(app, world, submit(world, kind=TicketKind.REVOKE))
    db.session.expire_all()
    withdrawn = db.session.scalars(select(SipCredential)).one()
    assert withdrawn.state == "withdrawn" and withdrawn.secret is None


def test_a_switchboard_that_lost_the_account_gets_it_back_with_a_new_password(
    app: Flask, world: World
) -> None:
    agent = provisioned_agent(app, world)
    db.session.execute(DirectoryEntry.__table__.delete())
    db.session.commit()
    provision(app, world, submit(world, kind=TicketKind.CHANGE, extension="5656"))
    db.session.expire_all()
    issued = db.session.scalars(select(SipCredential).order_by(SipCredential.id)).all()
    assert [each.state for each in issued] == ["superseded", "pending"]
    token = credentials.new_link(db.session, issued[1].id)
    password = credentials.reveal_by_link(db.session, vault(app), token).password
    assert digest_on_switchboard(agent.sip_username) == sha256(password)


def test_the_signed_in_employee_sees_only_their_own_password(app: Flask, world: World) -> None:
    agent = provisioned_agent(app, world)
    agent.employee.email = "NhanVien@Test.vn"
    db.session.commit()
    credential_id = db.session.scalars(select(SipCredential.id)).one()
    assert credentials.count_pending(db.session, "someone@test.vn") == 0
    with pytest.raises(Conflict):
        credentials.reveal_own(db.session, vault(app), credential_id, "someone@test.vn")
    assert [each.id for each in credentials.pending_for(db.session, "nhanvien@test.vn")] == [
        credential_id]
    shown = credentials.reveal_own(db.session, vault(app), credential_id, "nhanvien@test.vn")
    assert shown.sip_username == agent.sip_username
    assert credentials.count_pending(db.session, "nhanvien@test.vn") == 0


def test_keys_rotate_without_losing_sealed_passwords(app: Flask, world: World) -> None:
    provisioned_agent(app, world)
    credential_id = db.session.scalars(select(SipCredential.id)).one()
    old = vault(app)
    new_key = Fernet.generate_key().decode()
    # Keys are given newest first; the old one stays listed until nothing it sealed is left
    assert isinstance(old.cipher, FernetCipher)
    rotated = Vault(FernetCipher([new_key, *old.cipher.keys]), old.domain)
    forgotten = Vault(FernetCipher([new_key]), old.domain)
    token = credentials.new_link(db.session, credential_id)
    with pytest.raises(Conflict) as unreadable:
        credentials.reveal_by_link(db.session, forgotten, token)
    assert unreadable.value.code == "credential_unreadable"
    assert credentials.reveal_by_link(db.session, rotated, token).password


def test_two_people_opening_one_link_at_once_see_it_once(pg_only_app: Flask) -> None:
    world = make_world()
    provisioned_agent(pg_only_app, world)
    token = credentials.new_link(db.session, db.session.scalars(select(SipCredential.id)).one())
    results: list[str] = []
    start = threading.Barrier(4)
    engine, sealed_with = db.engine, vault(pg_only_app)

    def open_link() -> None:
        with Session(engine) as session:
            start.wait()
            try:
                results.append(credentials.reveal_by_link(session, sealed_with, token).password)
            except Conflict:
                results.append("conflict")

    threads = [threading.Thread(target=open_link) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("conflict") == 3
    assert len(results) == 4
