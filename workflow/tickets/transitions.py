"""Compare-and-set state transitions with their audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, JSON, Integer, String, bindparam, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict
from workflow.domain.machine import Action, Status, next_status
from workflow.models import Ticket, TicketEvent, UTCDateTime, table, utcnow


@dataclass(frozen=True)
class Moved:
    """A transition that took place: its event and the ticket's new version."""

    event_id: int
    action: Action
    actor_id: int | None
    state: Status
    version: int
    at: datetime


def move(
    session: Session,
    ticket_id: int,
    from_state: Status,
    version: int,
    action: Action,
    actor_id: int | None,
    comment: str = "",
    changes: dict[str, Any] | None = None,
    **values: Any,
) -> Moved:
    """Move a ticket by `action` if it is still at (`from_state`, `version`); audit it."""
    to_state = next_status(from_state, action)
    now = utcnow()
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state == from_state.value,
               Ticket.version == version)
        .values(state=to_state.value, version=version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(ErrorCode.TICKET_CHANGED, ticket_id=ticket_id)
    event_id = session.execute(
        insert(TicketEvent)
        .values(ticket_id=ticket_id, actor_id=actor_id, action=action.value,
                from_state=from_state.value, to_state=to_state.value, comment=comment,
                changes=changes or {}, created_at=now)
        .returning(TicketEvent.id)
    ).scalar_one()
    return Moved(event_id, action, actor_id, to_state, version + 1, now)


_tickets, _events = table(Ticket), table(TicketEvent)
#: The columns of an INSERT … SELECT writing ticket events, in order.
EVENT_COLUMNS = ("ticket_id", "actor_id", "action", "from_state", "to_state", "comment",
                 "changes", "created_at")


def moving(action: Action, columns: tuple[str, ...] = ()) -> tuple[CTE, CTE]:
    """`move` as data-modifying CTEs for a statement that writes more alongside (PostgreSQL):
    the compare-and-set, returning the ticket's `id` and new `version`, and its event,
    returning its `id`; the event is written only when the ticket moved.

    The statement binds what `move` takes: `ticket_id`, `from_state`, `to_state`, `version`,
    `actor_id`, `comment`, `changes`, `created_at` (the time of both), and a value for each of
    the ticket's `columns` it also sets, under the column's name.
    """
    ticket = _tickets.c
    at = bindparam("created_at", type_=UTCDateTime)
    moved = (
        update(_tickets)
        .where(ticket.id == bindparam("ticket_id", type_=Integer),
               ticket.state == bindparam("from_state", type_=String),
               ticket.version == bindparam("version", type_=Integer))
        .values(state=bindparam("to_state", type_=String), version=ticket.version + 1,
                updated_at=at,
                **{name: bindparam(name, type_=ticket[name].type) for name in columns})
        .returning(ticket.id, ticket.version)
        .cte("moved")
    )
    event = select(
        moved.c.id, bindparam("actor_id", type_=Integer), literal(action.value),
        bindparam("from_state", type_=String), bindparam("to_state", type_=String),
        bindparam("comment", type_=String), bindparam("changes", type_=JSON), at,
    )
    new_event = (
        insert(_events)
        .from_select(EVENT_COLUMNS, event)
        .returning(_events.c.id)
        .cte("new_event")
    )
    return moved, new_event


def keep_in_step(ticket: Ticket, moved: Moved, **values: Any) -> None:
    """Bring a loaded ticket to what `moved` wrote, without marking it changed."""
    updates = {"state": moved.state.value, "version": moved.version, "updated_at": moved.at,
               **values}
    for name, value in updates.items():
        set_committed_value(ticket, name, value)


def transition(
    session: Session,
    ticket: Ticket,
    action: Action,
    actor_id: int | None,
    comment: str = "",
    changes: dict[str, Any] | None = None,
    **values: Any,
) -> Moved:
    """`move` a loaded ticket and keep the loaded object in step with the database."""
    moved = move(session, ticket.id, Status(ticket.state), ticket.version, action, actor_id,
                 comment, changes, **values)
    keep_in_step(ticket, moved, **values)
    return moved
