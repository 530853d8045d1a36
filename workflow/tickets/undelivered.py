"""Emails that could not go: notices and SIP password letters the relay parked with a reason.

The relay parks an email that can never go as it is (a broken address or name, a recipient
the mail server refuses) and goes on with the others. Admins see the parked ones that could
still be sent, fix the person's data, and release them: the relay then tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from workflow.credentials import CredentialState
from workflow.models import Employee, Notification, SipCredential, TicketEvent, User, utcnow
from workflow.tickets.notifications import EMAIL_MAX_AGE


class EmailKind(StrEnum):
    """What a parked email was to bring."""

    NOTICE = "notice"  # a ticket event's notification
    LETTER = "letter"  # the one-time link to a new SIP password


@dataclass(frozen=True)
class ParkedEmail:
    """One email that could not go, as an admin sees it (never a link or a password)."""

    kind: EmailKind
    id: int
    recipient_name: str
    recipient_email: str
    ticket_id: int | None
    #: The ticket event a notice was about (None for a letter).
    action: str | None
    #: The employee a letter was for (None for a notice).
    employee_id: int | None
    created_at: datetime
    error: str


def _parked_notice() -> ColumnElement[bool]:
    """A notice parked while its email may still go (the relay mails recent notices only)."""
    return (Notification.email_error.is_not(None) & Notification.emailed_at.is_(None)
            & Notification.superseded_at.is_(None)
            & (Notification.created_at > utcnow() - EMAIL_MAX_AGE))


def _parked_letter() -> ColumnElement[bool]:
    """A letter parked while its password still waits to be seen."""
    return (SipCredential.email_error.is_not(None) & SipCredential.emailed_at.is_(None)
            & (SipCredential.state == CredentialState.PENDING.value)
            & (SipCredential.expires_at > utcnow()))


def list_parked(session: Session, limit: int = 500) -> list[ParkedEmail]:
    """The parked emails that could still go, oldest first."""
    notices = session.execute(
        select(Notification.id, User.full_name, User.email, Notification.ticket_id,
               TicketEvent.action, Notification.created_at, Notification.email_error)
        .join(User, User.id == Notification.user_id)
        .join(TicketEvent, TicketEvent.id == Notification.event_id)
        .where(_parked_notice()).order_by(Notification.id).limit(limit)
    ).all()
    letters = session.execute(
        select(SipCredential.id, Employee.full_name, Employee.email, SipCredential.ticket_id,
               Employee.id.label("employee_id"), SipCredential.created_at,
               SipCredential.email_error)
        .join(Employee, Employee.id == SipCredential.employee_id)
        .where(_parked_letter()).order_by(SipCredential.id).limit(limit)
    ).all()
    parked = [ParkedEmail(EmailKind.NOTICE, row.id, row.full_name, row.email, row.ticket_id,
                          row.action, None, row.created_at, row.email_error or "")
              for row in notices]
    parked += [ParkedEmail(EmailKind.LETTER, row.id, row.full_name, row.email or "",
                           row.ticket_id, None, row.employee_id, row.created_at,
                           row.email_error or "")
               for row in letters]
    return sorted(parked, key=lambda email: email.created_at)


def count_parked(session: Session) -> int:
    """How many parked emails could still go (the count in the admins' navigation)."""
    notices = session.scalar(select(func.count()).select_from(Notification)
                             .where(_parked_notice())) or 0
    letters = session.scalar(select(func.count()).select_from(SipCredential)
                             .where(_parked_letter())) or 0
    return notices + letters


def release(session: Session, kind: EmailKind, email_id: int) -> int:
    """Let the relay try one parked email again; 1 when it was parked, else 0."""
    released = _release(session, kind, email_id)
    session.commit()
    return released


def release_all(session: Session) -> int:
    """Let the relay try every parked email that could still go; how many."""
    released = _release(session, EmailKind.NOTICE) + _release(session, EmailKind.LETTER)
    session.commit()
    return released


def _release(session: Session, kind: EmailKind, email_id: int | None = None) -> int:
    """Clear the reason of parked emails of a kind (one, or all); how many."""
    model = Notification if kind is EmailKind.NOTICE else SipCredential
    which = _parked_notice() if kind is EmailKind.NOTICE else _parked_letter()
    if email_id is not None:
        which = which & (model.id == email_id)
    return int(session.execute(
        update(model).where(which).values(email_error=None)
        .execution_options(synchronize_session=False)
    ).rowcount)  # type: ignore[attr-defined]
