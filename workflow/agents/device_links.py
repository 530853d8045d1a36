"""Device setup links: a one-time, expiring address a phone app loads its SIP account from.

The password an app receives is the account's pending password, the one agentdesk issued and
keeps encrypted until it is shown once: loading it into a phone is that one showing. So a
link can only be issued while a password waits to be seen, and once an app took it (or the
employee revealed it on a page) it is wiped and nothing can hand it out again; a new
password comes from a reset (a change ticket), as before.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow import credentials
from workflow.credentials import CredentialState, Revealed, Vault
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict, NotFound
from workflow.models import DeviceLink, SipCredential, utcnow

logger = logging.getLogger(__name__)

#: Random bytes in a device link's token (token_urlsafe: 43 characters).
TOKEN_BYTES = 32
#: How much of an app's User-Agent the record keeps.
USER_AGENT_LENGTH = 200


class Purpose(StrEnum):
    """Who a link is for."""

    OWN_DEVICE = "own_device"  # the employee's own phone app, from their credentials page
    DESK_PHONE = "desk_phone"  # a desk phone an admin sets up, from the agent's page


class LinkState(StrEnum):
    """Where a link is in its short life, as a preview page may say it."""

    READY = "ready"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class IssuedLink:
    """A new link: its token (shown once, never stored) and when it stops working."""

    token: str
    expires_at: datetime
    sip_username: str


def token_digest(token: str) -> str:
    """What is stored of a link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, credential_id: int, issued_by_id: int | None, purpose: Purpose,
          lifetime: timedelta) -> IssuedLink:
    """A new link to the pending password `credential_id`; older unused links to it stop
    working. Conflict when no password waits to be seen. Commits."""
    now = utcnow()
    pending = session.execute(
        select(SipCredential.id, SipCredential.sip_username, SipCredential.expires_at)
        .where(SipCredential.id == credential_id,
               SipCredential.state == CredentialState.PENDING.value,
               SipCredential.expires_at > now)
        .with_for_update()
    ).first()
    if pending is None:
        session.rollback()
        raise Conflict(ErrorCode.CREDENTIAL_GONE)
    session.execute(update(DeviceLink)
                    .where(DeviceLink.credential_id == credential_id,
                           DeviceLink.used_at.is_(None), DeviceLink.expires_at > now)
                    .values(expires_at=now)
                    .execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    # A link never outlives the password it leads to (the sweeper wipes that at its expiry).
    expires_at = min(now + lifetime, pending.expires_at)
    link = DeviceLink(credential_id=credential_id, token_digest=token_digest(token),
                      purpose=purpose.value, issued_by_id=issued_by_id, created_at=now,
                      expires_at=expires_at)
    session.add(link)
    session.commit()
    logger.info("device link %s issued for %s (%s) by user %s, until %s", link.id,
                pending.sip_username, purpose.value, issued_by_id, expires_at.isoformat())
    return IssuedLink(token, expires_at, pending.sip_username)


def pending_credential_of(session: Session, credential_id: int, email: str) -> int:
    """`credential_id` if it is a pending password of the employee signed in with `email`
    (NotFound otherwise: nobody issues links to someone else's password)."""
    if credential_id not in {status.id for status in credentials.pending_for(session, email)}:
        raise NotFound(ErrorCode.CREDENTIAL)
    return credential_id


def state_of(session: Session, token: str) -> LinkState:
    """Whether a link still works, without using it (NotFound for an unknown link)."""
    link = session.scalars(select(DeviceLink)
                           .where(DeviceLink.token_digest == token_digest(token))).first()
    if link is None:
        raise NotFound(ErrorCode.DEVICE_LINK)
    if link.used_at is not None:
        return LinkState.USED
    if link.expires_at <= utcnow():
        return LinkState.EXPIRED
    return LinkState.READY


def use(session: Session, vault: Vault, token: str, user_agent: str) -> Revealed:
    """The account behind a link, with its password, once: the link is used up and the
    password wiped in one transaction. Of two fetches at once, one wins; the other, and any
    later or expired one, gets Conflict("device_link_gone") (NotFound for an unknown link)."""
    now = utcnow()
    digest = token_digest(token)
    # The conditions are checked again as the row is written: a concurrent fetch that got
    # there first (PostgreSQL waits for its commit) leaves nothing to update.
    won = session.connection().execute(
        update(DeviceLink)
        .where(DeviceLink.token_digest == digest, DeviceLink.used_at.is_(None),
               DeviceLink.expires_at > now)
        .values(used_at=now, used_by_agent=_printable(user_agent))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        session.rollback()
        state_of(session, token)  # NotFound for a link that never existed
        raise Conflict(ErrorCode.DEVICE_LINK_GONE)
    link_id, credential_id = session.execute(
        select(DeviceLink.id, DeviceLink.credential_id).where(DeviceLink.token_digest == digest)
    ).one()
    try:
        # Commits the link's use together with the password's wiping.
        revealed = credentials.reveal_by_id(session, vault, credential_id)
    except Conflict:
        # The password was shown on a page or replaced meanwhile: nothing to hand out; the
        # link stays unused but leads nowhere any more.
        logger.info("device link %s refused: its password is no longer pending", link_id)
        raise Conflict(ErrorCode.DEVICE_LINK_GONE) from None
    logger.info("device link %s used for %s by %r", link_id, revealed.sip_username,
                _printable(user_agent))
    return revealed


def _printable(user_agent: str) -> str:
    """A User-Agent fit for a record and a log line: printable, short."""
    return "".join(char for char in user_agent if char.isprintable())[:USER_AGENT_LENGTH]
