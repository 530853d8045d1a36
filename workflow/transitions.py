"""Compare-and-set state transitions with their audit event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow.errors import Conflict
from workflow.machine import Action, Status, next_status
from workflow.models import Ticket, TicketEvent, utcnow


def transition(
    session: Session,
    ticket: Ticket,
    action: Action,
    actor_id: int | None,
    comment: str = "",
    changes: dict[str, Any] | None = None,
    **values: Any,
) -> TicketEvent:
    """Move `ticket` by `action` if nobody moved it first, and record the event."""
    from_state = Status(ticket.state)
    to_state = next_status(from_state, action)
    now = utcnow()
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.state == from_state.value,
            Ticket.version == ticket.version,
        )
        .values(state=to_state.value, version=ticket.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("ticket_changed", ticket_id=ticket.id)
    for name, value in {
        "state": to_state.value, "version": ticket.version + 1, "updated_at": now, **values
    }.items():
        set_committed_value(ticket, name, value)
    event = TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor_id,
        action=action.value,
        from_state=from_state.value,
        to_state=to_state.value,
        comment=comment,
        changes=changes or {},
        created_at=now,
    )
    session.add(event)
    return event
