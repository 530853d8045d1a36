"""SIP passwords: issued by agentdesk, kept encrypted, shown to their employee exactly once.

A password is issued when an account is created, reset by a change ticket, or re-created by
reconcile. It stays encrypted until the employee opens a one-time link (by email, or handed
over by an admin) or signs in, and is wiped from the database the moment it is shown, when
its link expires, when a newer password replaces it, or when the account is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, joinedload

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict, NotFound
from workflow.models import Employee, SipCredential, UTCDateTime, table, utcnow
from workflow.ports import Cipher


class CredentialState(StrEnum):
    """Where an issued password is in its short life."""

    PENDING = "pending"  # encrypted, waiting to be shown
    REVEALED = "revealed"  # shown once, wiped
    EXPIRED = "expired"  # its link ran out before anyone opened it, wiped
    SUPERSEDED = "superseded"  # a newer password replaced it, wiped
    WITHDRAWN = "withdrawn"  # the account was revoked, wiped


@dataclass(frozen=True)
class Vault:
    """How issued passwords are encrypted, for which SIP domain, and how long links last."""

    cipher: Cipher
    domain: str
    lifetime: timedelta = timedelta(hours=72)

    def seal(self, secret: str) -> str:
        """The stored form of a password."""
        return self.cipher.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The password behind its stored form (Conflict when no key can read it)."""
        try:
            return self.cipher.decrypt(sealed.encode()).decode()
        except ValueError as error:
            # The keys changed without keeping the old one (CREDENTIAL_KEYS): issue anew.
            raise Conflict(ErrorCode.CREDENTIAL_UNREADABLE) from error


@dataclass(frozen=True)
class Revealed:
    """What an employee needs to sign a phone in: shown once."""

    sip_username: str
    domain: str
    password: str
    full_name: str


@dataclass(frozen=True)
class CredentialStatus:
    """An issued password as people may see it (never the password itself)."""

    id: int
    sip_username: str
    full_name: str
    state: CredentialState
    created_at: datetime
    expires_at: datetime
    emailed_at: datetime | None
    revealed_at: datetime | None


_CREDENTIALS = table(SipCredential)

#: Length of a generated SIP password, in random bytes (token_urlsafe: 24 characters).
SECRET_BYTES = 18
#: Random bytes in a one-time link.
LINK_BYTES = 32
#: How long a relay may take to mail a claimed link before another relay mails a new one.
MAILING_LEASE = timedelta(minutes=2)


def link_digest(token: str) -> str:
    """What is stored of a one-time link."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Issue:
    """A new password to issue: for which account and employee, by which ticket."""

    sip_username: str
    employee_id: int
    ticket_id: int | None


def issue(
    session: Session, vault: Vault, sip_username: str, employee_id: int, ticket_id: int | None
) -> str:
    """A new password for the account, stored encrypted; see `issue_all`."""
    return issue_all(session, vault, [Issue(sip_username, employee_id, ticket_id)])[0]


def issue_all(session: Session, vault: Vault, wanted: Sequence[Issue]) -> list[str]:
    """New passwords for the accounts, stored encrypted; older pending ones are superseded.

    They are written in the caller's transaction, with the ticket's outcome: an attempt that
    fails rolls its password back, and the next attempt sets a new one on the switchboard.
    """
    passwords = [secrets.token_urlsafe(SECRET_BYTES) for _ in wanted]
    _close(session, SipCredential.sip_username.in_([each.sip_username for each in wanted]),
           CredentialState.SUPERSEDED)
    now = utcnow()
    session.execute(insert(_CREDENTIALS), [{
        "sip_username": each.sip_username, "employee_id": each.employee_id,
        "ticket_id": each.ticket_id, "state": CredentialState.PENDING.value,
        "secret": vault.seal(password), "created_at": now, "expires_at": now + vault.lifetime,
        "link_digest": None, "emailed_at": None, "revealed_at": None,
    } for each, password in zip(wanted, passwords, strict=True)])
    return passwords


def withdraw(session: Session, sip_username: str) -> None:
    """Wipe the pending password of a revoked account."""
    _close(session, SipCredential.sip_username == sip_username, CredentialState.WITHDRAWN)


def expire(session: Session) -> int:
    """Wipe the pending passwords whose link ran out; how many (the caller commits)."""
    return _close(session, SipCredential.expires_at <= utcnow(), CredentialState.EXPIRED)


def new_link(session: Session, credential_id: int) -> str:
    """A new one-time link to a pending password; older links stop working. Commits."""
    token = secrets.token_urlsafe(LINK_BYTES)
    changed = session.connection().execute(
        update(SipCredential)
        .where(SipCredential.id == credential_id, _is(CredentialState.PENDING),
               SipCredential.expires_at > utcnow())
        .values(link_digest=link_digest(token))
    ).rowcount
    if not changed:
        session.rollback()
        raise Conflict(ErrorCode.CREDENTIAL_GONE)
    session.commit()
    return token


def status_by_link(session: Session, token: str) -> CredentialStatus:
    """The password a link leads to, without showing it (NotFound for an unknown link)."""
    found = session.scalars(_statuses().where(SipCredential.link_digest == link_digest(token))
                            ).first()
    if found is None:
        raise NotFound(ErrorCode.CREDENTIAL)
    return _status(found)


def reveal_by_link(session: Session, vault: Vault, token: str) -> Revealed:
    """Show the password behind a one-time link, once; Conflict when it was already used."""
    return _reveal(session, vault, SipCredential.link_digest == link_digest(token))


def reveal_by_id(session: Session, vault: Vault, credential_id: int) -> Revealed:
    """Show a pending password once, to a phone app loading a device link (the caller's
    pending writes commit with it)."""
    return _reveal(session, vault, SipCredential.id == credential_id)


def reveal_own(session: Session, vault: Vault, credential_id: int, email: str) -> Revealed:
    """Show a signed-in employee their own pending password, once."""
    mine = select(Employee.id).where(func.lower(Employee.email) == email.lower())
    return _reveal(session, vault, (SipCredential.id == credential_id)
                   & SipCredential.employee_id.in_(mine))


def pending_for(session: Session, email: str) -> list[CredentialStatus]:
    """The pending passwords of the employee signed in with `email`."""
    rows = session.scalars(_statuses().join(SipCredential.employee).where(
        func.lower(Employee.email) == email.lower(), _is(CredentialState.PENDING),
        SipCredential.expires_at > utcnow()).order_by(SipCredential.id))
    return [_status(row) for row in rows]


#: Built once: every page of a signed-in user asks it.
_COUNT_PENDING = (
    select(func.count()).select_from(_CREDENTIALS)
    .join(table(Employee), table(Employee).c.id == _CREDENTIALS.c.employee_id)
    .where(func.lower(table(Employee).c.email) == bindparam("email"),
           _CREDENTIALS.c.state == literal(CredentialState.PENDING.value, literal_execute=True),
           _CREDENTIALS.c.expires_at > bindparam("now", type_=UTCDateTime()))
)


def count_pending(session: Session, email: str) -> int:
    """How many passwords wait for the employee signed in with `email`."""
    return session.connection().execute(
        _COUNT_PENDING, {"email": email.lower(), "now": utcnow()}).scalar_one()


def latest_for(session: Session, sip_username: str) -> CredentialStatus | None:
    """The newest password issued for an account, as people may see it."""
    found = session.scalars(_statuses().where(SipCredential.sip_username == sip_username)
                            .order_by(SipCredential.id.desc()).limit(1)).first()
    return None if found is None else _status(found)


def _reveal(session: Session, vault: Vault, which: ColumnElement[bool]) -> Revealed:
    """Wipe and return the pending password `which` picks; of two at once, one wins."""
    now = utcnow()
    row = session.execute(
        select(SipCredential.id, SipCredential.secret, SipCredential.sip_username,
               Employee.full_name)
        .join(SipCredential.employee)
        .where(which, _is(CredentialState.PENDING), SipCredential.expires_at > now)
    ).first()
    if row is None or row.secret is None:
        session.rollback()
        raise Conflict(ErrorCode.CREDENTIAL_GONE)
    password = vault.open(row.secret)
    # The state is checked again as the row is written: a concurrent reveal that got there
    # first leaves nothing to update.
    won = session.connection().execute(
        update(SipCredential)
        .where(SipCredential.id == row.id, _is(CredentialState.PENDING))
        .values(state=CredentialState.REVEALED.value, secret=None, revealed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not won:
        raise Conflict(ErrorCode.CREDENTIAL_GONE)
    return Revealed(row.sip_username, vault.domain, password, row.full_name)


def _close(session: Session, which: ColumnElement[bool], state: CredentialState) -> int:
    """Wipe the pending passwords `which` picks, leaving them in `state`."""
    return session.connection().execute(
        update(SipCredential).where(which, _is(CredentialState.PENDING))
        .values(state=state.value, secret=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def _is(state: CredentialState) -> ColumnElement[bool]:
    """The credential is in `state`."""
    return SipCredential.state == state.value


def _statuses() -> Select[SipCredential]:
    """Credentials with their employee, for status views."""
    return select(SipCredential).options(joinedload(SipCredential.employee))


def _status(row: SipCredential) -> CredentialStatus:
    """The shareable view of a credential row (expired as soon as its time is up)."""
    state = CredentialState(row.state)
    if state is CredentialState.PENDING and row.expires_at <= utcnow():
        state = CredentialState.EXPIRED  # the sweeper wipes it on its next pass
    return CredentialStatus(row.id, row.sip_username, row.employee.full_name, state,
                            row.created_at, row.expires_at, row.emailed_at, row.revealed_at)
