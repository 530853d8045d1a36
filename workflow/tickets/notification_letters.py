"""The letters of notices due by email, read with every fact they show in one query (and
one more for the extensions that revokes recorded)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from workflow.domain.links import ticket_link
from workflow.models import Employee, Notification, Ticket, TicketEvent, User, utcnow
from workflow.ports import NotificationLetter

logger = logging.getLogger(__name__)

#: What a letter shows, one row per notice.
_FACTS = (
    select(Notification.id, Notification.user_id, User.email, User.language,
           TicketEvent.action, TicketEvent.comment, Ticket.id.label("ticket_id"),
           Ticket.kind, Ticket.extension, Employee.full_name, Notification.created_at)
    .join(User, User.id == Notification.user_id)
    .join(TicketEvent, TicketEvent.id == Notification.event_id)
    .join(Ticket, Ticket.id == TicketEvent.ticket_id)
    .join(Employee, Employee.id == Ticket.employee_id)
)


def claim_due_letters(
    session: Session, base_url: str, max_age: timedelta, limit: int
) -> list[NotificationLetter]:
    """The letters of recent notices not emailed yet, their notices locked until the commit.

    Other relays skip the locked notices; a notice whose letter cannot be read (bad legacy
    data) is logged and left for the next pass, and the others go on.
    """
    rows = session.execute(
        _FACTS.where(Notification.emailed_at.is_(None), Notification.email_error.is_(None),
                     Notification.superseded_at.is_(None),
                     Notification.created_at > utcnow() - max_age)
        .order_by(Notification.id).limit(limit)
        .with_for_update(skip_locked=True, of=Notification)
    ).all()
    given_back = _extensions_given_back(
        session, {row.ticket_id for row in rows if not row.extension})
    letters = []
    for row in rows:
        try:
            letters.append(_letter(row, given_back.get(row.ticket_id, ()), base_url))
        except Exception:  # one notice's bad data must not hold back the others' letters
            logger.exception("letter of notification %s cannot be read; tried next pass",
                             row.id)
    return letters


def _letter(
    row: Row[*tuple[Any, ...]], changes: Iterable[Any], base_url: str
) -> NotificationLetter:
    """The letter of one notice row."""
    return NotificationLetter(
        notification_id=row.id, user_id=row.user_id, email=row.email, language=row.language,
        action=row.action, comment=row.comment, ticket_id=row.ticket_id,
        ticket_kind=row.kind, employee_name=row.full_name,
        extension=row.extension or _extension_given_back(changes),
        written_at=row.created_at, link=ticket_link(base_url, row.ticket_id),
    )


def _extensions_given_back(
    session: Session, ticket_ids: set[int]
) -> Mapping[int, Sequence[Any]]:
    """The recorded changes of each ticket's events, oldest first, for tickets that ask for
    no extension (a revoke's submission recorded the one it gives back)."""
    if not ticket_ids:
        return {}
    found: dict[int, list[Any]] = {}
    for ticket_id, changes in session.execute(
        select(TicketEvent.ticket_id, TicketEvent.changes)
        .where(TicketEvent.ticket_id.in_(ticket_ids)).order_by(TicketEvent.id)
    ):
        found.setdefault(ticket_id, []).append(changes)
    return found


def _extension_given_back(changes: Iterable[Any]) -> str:
    """The first extension the events' changes name, else "-"."""
    for change in changes:
        for value in (change or {}).get("extension") or []:
            if value:
                return str(value)
    return "-"
