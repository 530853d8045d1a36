"""Compare-and-set state transitions with their audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict
from workflow.domain.machine import Action, Status, next_status
from workflow.models import Ticket, TicketEvent, utcnow


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
    updates = {"state": moved.state.value, "version": moved.version, "updated_at": moved.at,
               **values}
    for name, value in updates.items():
        set_committed_value(ticket, name, value)
    return moved
