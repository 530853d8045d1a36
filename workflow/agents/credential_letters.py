"""Mailing each new SIP password's one-time link to its employee, and parking letters that
cannot go (a broken address or name) until an admin releases them."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from workflow.credentials import LINK_BYTES, MAILING_LEASE, CredentialState, link_digest
from workflow.domain.links import credential_link
from workflow.models import Employee, SipCredential, User, utcnow
from workflow.ports import CredentialLetter, EmailRefused, Mailer

logger = logging.getLogger(__name__)


def email_links(session: Session, mailer: Mailer, limit: int = 50) -> int:
    """Email a new one-time link for each pending password not emailed yet; how many went.

    The links are saved, and the passwords claimed for a while, before any letter goes out:
    a link that arrives always works, and two relays never mail one password at once. A
    relay that dies mid-way leaves its claims to run out; the next pass mails new links. A
    letter that can never go as it is is parked (its link dropped) and the others go on;
    mail being down stops the pass and frees the letters not sent. Any other failure of one
    letter is logged, and its claim freed for the next pass.
    """
    letters = _claim(session, mailer.base_url, limit)
    handled: set[int] = set()
    sent = 0
    try:
        for letter in letters:
            try:
                mailer.send_credential_link(letter)
            except EmailRefused as refused:
                _park(session, letter.credential_id, refused.reason)
                handled.add(letter.credential_id)
                continue
            except OSError as error:
                logger.warning("email of credential %s failed: %s", letter.credential_id, error)
                break
            except Exception:  # an unforeseen fault of this letter must not hold back others
                logger.exception("email of credential %s failed; tried next pass",
                                 letter.credential_id)
                continue
            session.execute(update(SipCredential)
                            .where(SipCredential.id == letter.credential_id)
                            .values(emailed_at=utcnow(), mailing_until=None))
            session.commit()
            handled.add(letter.credential_id)
            sent += 1
    finally:
        _release(session, [letter.credential_id for letter in letters
                           if letter.credential_id not in handled])
    return sent


def _claim(session: Session, base_url: str, limit: int) -> Sequence[CredentialLetter]:
    """Claim the letters due (with a new link each) and commit, before any is sent."""
    now = utcnow()
    due = (select(SipCredential.id).join(SipCredential.employee)
           .where(SipCredential.state == CredentialState.PENDING.value,
                  SipCredential.emailed_at.is_(None), SipCredential.email_error.is_(None),
                  SipCredential.expires_at > now, Employee.email.is_not(None),
                  Employee.email != "",
                  or_(SipCredential.mailing_until.is_(None), SipCredential.mailing_until < now))
           .order_by(SipCredential.id).limit(limit)
           .with_for_update(skip_locked=True, of=SipCredential))
    rows = session.execute(
        select(SipCredential.id, SipCredential.expires_at, Employee.email, Employee.full_name)
        .join(SipCredential.employee).where(SipCredential.id.in_(due.scalar_subquery()))
        .order_by(SipCredential.id)
    ).all()
    letters = []
    for row in rows:
        token = secrets.token_urlsafe(LINK_BYTES)
        session.execute(update(SipCredential).where(SipCredential.id == row.id).values(
            link_digest=link_digest(token), mailing_until=now + MAILING_LEASE))
        letters.append(CredentialLetter(row.id, row.email, row.full_name,
                                        _language_of(session, row.email), token,
                                        row.expires_at, credential_link(base_url, token)))
    session.commit()
    return letters


def _park(session: Session, credential_id: int, reason: str) -> None:
    """Keep a letter that cannot go aside with its reason; its link, never sent, stops
    working, and its claim is released."""
    logger.warning("email of credential %s parked: %s", credential_id, reason)
    session.execute(update(SipCredential).where(SipCredential.id == credential_id).values(
        email_error=reason, link_digest=None, mailing_until=None))
    session.commit()


def _release(session: Session, credential_ids: list[int]) -> None:
    """Free the claims of letters not sent, for the next pass."""
    if not credential_ids:
        return
    session.rollback()  # after a failure mid-way; every letter handled was committed
    session.execute(update(SipCredential).where(SipCredential.id.in_(credential_ids))
                    .values(mailing_until=None))
    session.commit()


def _language_of(session: Session, email: str) -> str:
    """The language of the user signed in with `email`, or Vietnamese."""
    language = session.execute(select(User.language).where(
        func.lower(User.email) == email.lower())).scalar_one_or_none()
    return language or "vi"
