"""Telling people about ticket events: in-app notices and, when configured, email."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    Integer,
    Select,
    Update,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, joinedload

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.domain.machine import MOVE_BRANCH, SUBMIT
from workflow.domain.rules import Role
from workflow.models import (
    Notification,
    Ticket,
    TicketEvent,
    User,
    UTCDateTime,
    approver_branch,
    table,
    ticket_watcher,
    utcnow,
)
from workflow.ports import EmailRefused, Mailer
from workflow.tickets.notification_letters import claim_due_letters

logger = logging.getLogger(__name__)

#: Notices older than this are not emailed any more (e.g. after mail was off for days).
EMAIL_MAX_AGE = timedelta(days=1)


@dataclass(frozen=True)
class Audience:
    """The people around a ticket: its requester and the branch whose approvers decide it."""

    ticket_id: int
    requester_id: int
    branch_id: int


_users = table(User).c
_deciders = table(User).alias("decider")
_scoped = select(approver_branch.c.user_id).where(
    approver_branch.c.branch_id == bindparam("branch_id")
)


def _approves_branch(users: Any) -> ColumnElement[bool]:
    """`users` row is an active approver covering the branch being notified about."""
    return and_(users.active, users.role == Role.APPROVER.value,
                or_(users.all_branches, users.id.in_(_scoped)))


#: Approvers covering the bound `branch_id` decide a new ticket; admins stand in for none.
DECIDERS = or_(
    _approves_branch(_users),
    and_(_users.role == Role.ADMIN.value,
         ~exists().where(_approves_branch(_deciders.c))),
)
_WATCHERS = select(ticket_watcher.c.user_id).where(
    ticket_watcher.c.ticket_id == bindparam("ticket_id")
)
#: The columns an INSERT … FROM `notice_rows(...)` fills, in order.
NOTICE_COLUMNS = ("user_id", "ticket_id", "event_id", "created_at")


def notice_rows(
    ticket_id: ColumnElement[int], event_id: ColumnElement[int], watchers: Any,
    wanted: ColumnElement[bool],
) -> Select[Any]:
    """An event's notices: each active user `wanted` or in `watchers` (if any), not its actor."""
    return select(
        _users.id, ticket_id, event_id, bindparam("created_at", type_=UTCDateTime)
    ).where(
        _users.active,
        _users.id != func.coalesce(bindparam("actor_id", type_=Integer), 0),
        wanted if watchers is None else or_(_users.id.in_(watchers), wanted),
    )


def _notices(wanted: ColumnElement[bool], watchers: Any = _WATCHERS) -> Insert:
    """One INSERT … SELECT writing the notices of a saved event."""
    rows = notice_rows(bindparam("ticket_id", type_=Integer),
                       bindparam("event_id", type_=Integer), watchers, wanted)
    return insert(table(Notification)).from_select(NOTICE_COLUMNS, rows)


_TO_REQUESTER = _users.id == bindparam("requester_id", type_=Integer)
#: Who hears of an event besides its watchers, by action: (wanted, watchers or None).
_AUDIENCES: dict[str, tuple[ColumnElement[bool], Any]] = {
    SUBMIT: (DECIDERS, _WATCHERS),
    # A ticket moved to another branch waits for that branch's deciders (not its requester,
    # who may approve there but never their own ticket); its watchers learnt of it already.
    MOVE_BRANCH: (and_(DECIDERS, ~_TO_REQUESTER), None),
}
#: Any other action: its requester and watchers.
_REQUESTER = (_TO_REQUESTER, _WATCHERS)
#: A ticket withdrawn before its decision: the approvers asked to decide it learn it too.
_REQUESTER_AND_DECIDERS = (or_(_TO_REQUESTER, DECIDERS), _WATCHERS)


def _audience(action: str, deciders_too: bool) -> tuple[ColumnElement[bool], Any]:
    """(wanted, watchers) of an event of `action`; see `notify`."""
    return _AUDIENCES.get(action, _REQUESTER_AND_DECIDERS if deciders_too else _REQUESTER)


@cache
def _notices_of(action: str, deciders_too: bool) -> Insert:
    """`notify`'s INSERT for an event of `action`, built once (see `_audience`)."""
    return _notices(*_audience(action, deciders_too))


_notes = table(Notification)
_newer = table(Notification).alias("newer")
#: A saved event's notices retire the earlier notices of its ticket to the same users that
#: are still unread or not emailed (e.g. "approved", then "provisioned" a second later):
#: they are marked read and superseded, and their email never goes; the rows stay, so the
#: list and the audit keep them. Idempotent (only rows not superseded yet), and the newer
#: notice must have a higher id, so a redelivered event never retires a later one.
def _superseding(which: ColumnElement[bool], replaced: ColumnElement[bool], now: Any) -> Update:
    """The UPDATE retiring the notices `which` selects that are still unread or unsent and
    that a newer notice replaces (`replaced`: an EXISTS over the newer ones); `now`: when."""
    return (
        update(_notes)
        .where(which, _notes.c.superseded_at.is_(None),
               or_(_notes.c.read_at.is_(None), _notes.c.emailed_at.is_(None)), replaced)
        .values(read_at=func.coalesce(_notes.c.read_at, now), superseded_at=now)
    )


_B_EVENT = bindparam("b_event", type_=Integer)
_SUPERSEDE = _superseding(
    and_(_notes.c.ticket_id == bindparam("b_ticket", type_=Integer),
         _notes.c.event_id != _B_EVENT),
    exists().where(_newer.c.event_id == _B_EVENT, _newer.c.user_id == _notes.c.user_id,
                   _newer.c.id > _notes.c.id),
    bindparam("b_now", type_=UTCDateTime),
)


def supersede_earlier(session: Session, events: Sequence[tuple[int, int]]) -> None:
    """Retire the earlier unread or unsent notices that the notices of these events replace.

    `events` holds (ticket id, event id) pairs whose notices are written. Runs in the
    event's transaction, which holds its ticket (every event is a compare-and-set on it), so
    events of one ticket retire each other in their order. A notice the relay is emailing at
    that moment is locked by it: this waits for that email, then marks the notice read.
    """
    if events:
        now = utcnow()
        session.execute(_SUPERSEDE, [
            {"b_ticket": ticket_id, "b_event": event_id, "b_now": now}
            for ticket_id, event_id in events
        ])


def notice_ctes(new_event: CTE, action: str, deciders_too: bool = False) -> tuple[CTE, CTE]:
    """The notices of an event that the same statement writes (`new_event`: a CTE returning
    its `id`), and the retiring of the earlier ones they replace: data-modifying CTEs
    (PostgreSQL) doing what `notify` does, on the parameters it binds.
    """
    wanted, watchers = _audience(action, deciders_too)
    rows = notice_rows(bindparam("ticket_id", type_=Integer), new_event.c.id, watchers, wanted)
    new_notices = _inserting_notices(rows.select_from(table(User).join(new_event, true())))
    ticket = _notes.c.ticket_id == bindparam("ticket_id", type_=Integer)
    return new_notices, _retiring(new_notices, ticket, bindparam("created_at", type_=UTCDateTime))


def worker_notice_ctes(new_events: CTE, moved: CTE) -> tuple[CTE, CTE]:
    """The notices of worker events (no actor) that the same statement writes, one event per
    moved ticket, and the retiring of the earlier ones they replace: what `notify_all` does
    for them, as data-modifying CTEs (PostgreSQL).

    `new_events` returns each event's `id` and `ticket_id`, `moved` each ticket's `id` and
    `requester_id`; the statement binds `now`. Each ticket's requester and watchers hear.
    """
    users = table(User).c
    watchers = (select(ticket_watcher.c.user_id)
                .where(ticket_watcher.c.ticket_id == new_events.c.ticket_id)
                .correlate(new_events))
    now = bindparam("now", type_=UTCDateTime)
    rows = (
        select(users.id, new_events.c.ticket_id, new_events.c.id, now)
        .join_from(new_events, moved, moved.c.id == new_events.c.ticket_id)
        .join(table(User), true())
        .where(users.active, or_(users.id == moved.c.requester_id, users.id.in_(watchers)))
    )
    new_notices = _inserting_notices(rows)
    return new_notices, _retiring(new_notices, _notes.c.ticket_id.in_(select(moved.c.id)), now)


def _inserting_notices(rows: Select[Any]) -> CTE:
    """The INSERT of notices `rows` selects (`NOTICE_COLUMNS`), as a CTE returning them."""
    return (
        insert(_notes)
        .from_select(NOTICE_COLUMNS, rows)
        .returning(_notes.c.id, _notes.c.user_id, _notes.c.ticket_id)
        .cte("new_notices")
    )


def _retiring(new_notices: CTE, tickets: ColumnElement[bool], now: Any) -> CTE:
    """`supersede_earlier` for the notices the same statement writes: the earlier unread or
    unsent notices of `tickets` to the same users, as a CTE.

    The statement's CTEs share one snapshot: this sees the notices written before it, never
    the new ones, which it learns of from their CTE.
    """
    replaced = exists().where(new_notices.c.ticket_id == _notes.c.ticket_id,
                              new_notices.c.user_id == _notes.c.user_id,
                              new_notices.c.id > _notes.c.id)
    return _superseding(tickets, replaced, now).returning(_notes.c.id).cte("retired")


def notify(
    session: Session, audience: Audience, event_id: int, action: str, actor_id: int | None,
    deciders_too: bool = False,
) -> None:
    """Record the in-app notices of a ticket event in its transaction, never to its actor.

    A submission goes to the approvers in scope, any other event to the requester, and
    every event to the ticket's watchers; a move to another branch only to the approvers
    of the new one; with `deciders_too` (a cancelled undecided ticket) also the approvers in
    scope, each once. A notice not yet emailed is itself the promise
    of its email: `email_pending` sends it when a mail server is configured. The new
    notices supersede the earlier unread or unsent ones of the ticket to the same users.
    """
    notify_all(session, [(audience, event_id)], action, actor_id, deciders_too)


def notify_all(
    session: Session, events: Sequence[tuple[Audience, int]], action: str, actor_id: int | None,
    deciders_too: bool = False,
) -> None:
    """`notify` of many events of the same action and actor, in one batch of statements."""
    statement = _notices_of(action, deciders_too)
    now = utcnow()
    session.execute(statement, [
        {"ticket_id": audience.ticket_id, "event_id": event_id, "created_at": now,
         "actor_id": actor_id, "branch_id": audience.branch_id,
         "requester_id": audience.requester_id}
        for audience, event_id in events
    ])
    supersede_earlier(session, [(audience.ticket_id, event_id) for audience, event_id in events])


def email_pending(
    session: Session, mailer: Mailer, max_age: timedelta = EMAIL_MAX_AGE, limit: int = 100
) -> int:
    """Email recent notices not emailed yet; how many went.

    A notice whose email can never go as it is (a broken address or name, refused by the
    server) is parked with the reason and the others go on; an admin releases it once the
    data is fixed. Mail being down stops the pass and leaves the rest for the next one. Any
    other failure of one letter is logged and that letter is tried again on the next pass.
    """
    sent = 0
    for letter in claim_due_letters(session, mailer.base_url, max_age, limit):
        try:
            mailer.send_notification(letter)
        except EmailRefused as refused:
            logger.warning("email of notification %s parked: %s", letter.notification_id,
                           refused.reason)
            _record(session, letter.notification_id, email_error=refused.reason)
            continue
        except OSError as error:
            logger.warning("email of notification %s failed: %s", letter.notification_id,
                           error)
            break
        except Exception:  # an unforeseen fault of this letter must not hold back the others
            logger.exception("email of notification %s failed; tried next pass",
                             letter.notification_id)
            continue
        _record(session, letter.notification_id, emailed_at=utcnow())
        sent += 1
    session.commit()
    return sent


def _record(session: Session, notification_id: int, **values: object) -> None:
    """Write what became of one notice's email (in the pass's transaction)."""
    session.execute(update(Notification).where(Notification.id == notification_id)
                    .values(**values))


def list_notifications(
    session: Session, user_id: int, limit: int = 50, unread_only: bool = False
) -> Sequence[Notification]:
    """A user's newest notifications (only the unread ones with `unread_only`)."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .options(joinedload(Notification.event).joinedload(TicketEvent.ticket)
                 .joinedload(Ticket.employee))
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return session.scalars(query.order_by(Notification.id.desc()).limit(limit)).all()


def count_unread(session: Session, user_id: int) -> int:
    """How many of a user's notifications are unread."""
    return session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notification of a user as read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_read(session: Session, user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications as read (idempotent)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound(ErrorCode.NOTIFICATION_NOT_FOUND, notification_id=notification_id)
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    session.commit()
    session.refresh(notification)
    return notification

