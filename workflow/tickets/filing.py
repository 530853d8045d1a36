"""Saving a checked ticket with its watchers, its submit event and their notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, bindparam, func, insert, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from workflow.db import execute_alone
from workflow.domain.machine import INITIAL_STATE, SUBMIT
from workflow.models import (
    Notification,
    Ticket,
    TicketEvent,
    User,
    on_postgresql,
    table,
    ticket_watcher,
)
from workflow.tickets.notifications import DECIDERS, NOTICE_COLUMNS, Audience, notice_rows, notify
from workflow.tickets.transitions import EVENT_COLUMNS

_tickets, _events, _users = table(Ticket), table(TicketEvent), table(User)
#: Columns of a new ticket the caller provides, as bound parameters of the same name.
TICKET_COLUMNS = ("kind", "employee_id", "branch_id", "agent_id", "extension", "routing_type",
                  "priority_number", "backup_number", "sip_username", "reset_password", "details",
                  "requester_id", "idempotency_key", "state", "version", "attempts",
                  "created_at", "updated_at")


def _event_values(ticket_id: Any) -> tuple[Any, ...]:
    """The submit event of the ticket `ticket_id`, in `EVENT_COLUMNS` order."""
    created_at = bindparam("created_at", type_=_tickets.c.created_at.type)
    return (ticket_id, bindparam("requester_id", type_=Integer), literal(SUBMIT),
            literal(None), literal(INITIAL_STATE.value), literal(""),
            bindparam("changes", type_=JSON), created_at)


def _file_in_one_statement() -> Any:
    """Every write of a submission as one statement of data-modifying CTEs (PostgreSQL).

    The CTEs share one snapshot, so the notices are addressed to the bound watcher ids
    rather than read back from the watcher rows written alongside them.
    """
    # One array parameter, not an expanding IN list: the statement's text is then the same
    # for any number of watchers and is not rendered again at every execution.
    watcher_ids = select(func.unnest(bindparam("watcher_ids", type_=ARRAY(Integer))))
    given = select(*(bindparam(name, type_=_tickets.c[name].type) for name in TICKET_COLUMNS))
    new_ticket = (
        insert(_tickets).from_select(TICKET_COLUMNS, given).returning(_tickets.c.id)
        .cte("new_ticket")
    )
    new_watchers = (
        insert(ticket_watcher)
        .from_select(["ticket_id", "user_id"],
                     select(new_ticket.c.id, _users.c.id)
                     .select_from(_users.join(new_ticket, true()))
                     .where(_users.c.id.in_(watcher_ids)))
        .returning(ticket_watcher.c.user_id)
        .cte("new_watchers")
    )
    new_event = (
        insert(_events)
        .from_select(EVENT_COLUMNS, select(*_event_values(new_ticket.c.id)))
        .returning(_events.c.id, _events.c.ticket_id)
        .cte("new_event")
    )
    recipients = notice_rows(new_event.c.ticket_id, new_event.c.id, watcher_ids, DECIDERS)
    new_notices = (
        insert(table(Notification))
        .from_select(NOTICE_COLUMNS,
                     recipients.select_from(_users.join(new_event, true())))
        .returning(table(Notification).c.id)
        .cte("new_notices")
    )
    # A data-modifying CTE runs only when the statement names it.
    return select(
        new_ticket.c.id,
        select(func.count()).select_from(new_watchers).scalar_subquery(),
        select(func.count()).select_from(new_notices).scalar_subquery(),
    )


_FILE_IN_ONE_STATEMENT = _file_in_one_statement()
_INSERT_TICKET = insert(_tickets).returning(_tickets.c.id)
_INSERT_EVENT = insert(_events).returning(_events.c.id)


def file_ticket(session: Session, row: dict[str, Any], watcher_ids: list[int],
                changes: dict[str, Any], commits_next: bool = False) -> int:
    """Write a new ticket (`row` holds `TICKET_COLUMNS`) and everything that goes with it.

    PostgreSQL takes it all in one round trip; other databases statement by statement.
    Returns the ticket's id; the caller commits. A caller that commits at once says so
    (`commits_next`): when no transaction is open yet, PostgreSQL then takes the one
    statement as a transaction of its own, with no BEGIN and COMMIT round trips.
    """
    if on_postgresql(session):
        params = {**row, "watcher_ids": watcher_ids, "changes": changes,
                  "actor_id": row["requester_id"]}
        if commits_next:
            return int(execute_alone(session, _FILE_IN_ONE_STATEMENT, params).scalar_one())
        return int(session.execute(_FILE_IN_ONE_STATEMENT, params).scalar_one())
    ticket_id = int(session.execute(_INSERT_TICKET, row).scalar_one())
    if watcher_ids:
        session.execute(insert(ticket_watcher), [
            {"ticket_id": ticket_id, "user_id": user_id} for user_id in watcher_ids
        ])
    event_id = session.execute(_INSERT_EVENT, {
        "ticket_id": ticket_id, "actor_id": row["requester_id"],
        "action": SUBMIT, "from_state": None,
        "to_state": INITIAL_STATE.value, "comment": "", "changes": changes,
        "created_at": row["created_at"],
    }).scalar_one()
    audience = Audience(ticket_id, row["requester_id"], row["branch_id"])
    notify(session, audience, event_id, SUBMIT, row["requester_id"])
    return ticket_id
