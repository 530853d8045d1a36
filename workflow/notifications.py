"""Telling people about ticket events: in-app notices and, when configured, email."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, joinedload

from workflow.errors import NotFound
from workflow.models import (
    Notification,
    User,
    approver_branch,
    ticket_watcher,
    utcnow,
)
from workflow.ports import Mailer
from workflow.rules import Role

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    """The people around a ticket; watchers are looked up when not already known."""

    ticket_id: int
    requester_id: int
    branch_id: int
    watcher_ids: frozenset[int] | None = None


def recipients(
    session: Session, audience: Audience, action: str, actor_id: int | None
) -> set[int]:
    """Who hears of an event: approvers in scope on submit, else the requester; plus watchers."""
    people = set(audience.watcher_ids) if audience.watcher_ids is not None else set(
        session.scalars(select(ticket_watcher.c.user_id)
                        .where(ticket_watcher.c.ticket_id == audience.ticket_id))
    )
    if action == "submit":
        people |= _approvers_of(session, audience.branch_id)
    else:
        people.add(audience.requester_id)
    people.discard(actor_id or 0)
    return people


def _approvers_of(session: Session, branch_id: int) -> set[int]:
    """Active approvers covering `branch_id`; admins when no approver does."""
    scoped = select(approver_branch.c.user_id).where(approver_branch.c.branch_id == branch_id)
    approvers = set(session.scalars(
        select(User.id).where(
            User.active, User.role == Role.APPROVER.value,
            User.all_branches | User.id.in_(scoped),
        )
    ))
    if approvers:
        return approvers
    return set(session.scalars(select(User.id).where(User.active, User.role == Role.ADMIN.value)))


def notify(
    session: Session, audience: Audience, event_id: int, action: str, actor_id: int | None
) -> None:
    """Record the in-app notices of a ticket event in its transaction.

    A notice not yet emailed is itself the promise of its email: `email_pending` sends it
    when a mail server is configured, so no message per event is needed.
    """
    people = recipients(session, audience, action, actor_id)
    if people:
        now = utcnow()
        session.execute(insert(Notification), [
            {"user_id": user_id, "ticket_id": audience.ticket_id, "event_id": event_id,
             "created_at": now}
            for user_id in sorted(people)
        ])


def email_pending(
    session: Session, mailer: Mailer, max_age: timedelta, limit: int = 100
) -> int:
    """Email recent notices not emailed yet; stops at the first failure (mail is down)."""
    pending = session.scalars(
        select(Notification)
        .where(Notification.emailed_at.is_(None),
               Notification.created_at > utcnow() - max_age)
        .order_by(Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for notification in pending:
        try:
            mailer.send_notification(notification)
        except OSError as error:
            logger.warning("email of notification %s failed: %s", notification.id, error)
            break
        notification.emailed_at = utcnow()
        sent += 1
    session.commit()
    return sent


def list_notifications(
    session: Session, user_id: int, limit: int = 50
) -> Sequence[Notification]:
    """A user's newest notifications."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .options(joinedload(Notification.event))
    )
    return session.scalars(query.order_by(Notification.id.desc()).limit(limit)).all()


def mark_read(session: Session, user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications as read (idempotent)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("notification_not_found", notification_id=notification_id)
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    session.commit()
    session.refresh(notification)
    return notification

