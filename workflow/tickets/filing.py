"""Saving a checked ticket with its watchers, its submit event and their notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from workflow.db import constant, execute_alone
from workflow.domain.machine import INITIAL_STATE, SUBMIT
from workflow.domain.rules import ExtensionPolicy
from workflow.models import (
    Notification,
    Ticket,
    TicketEvent,
    User,
    on_postgresql,
    table,
    ticket_watcher,
)
from workflow.tickets.extensions import NEXT_ABOVE_HIGHEST, next_free_params
from workflow.tickets.notifications import DECIDERS, NOTICE_COLUMNS, Audience, notice_rows, notify
from workflow.tickets.transitions import EVENT_COLUMNS

_tickets, _events, _users = table(Ticket), table(TicketEvent), table(User)
#: Columns of a new ticket the caller provides, as bound parameters of the same name.
TICKET_COLUMNS = ("kind", "employee_id", "branch_id", "agent_id", "extension", "routing_type",
                  "priority_number", "backup_number", "sip_username", "reset_password", "details",
                  "requester_id", "idempotency_key", "state", "version", "attempts",
                  "created_at", "updated_at")


def _event_values(ticket_id: Any, changes: Any) -> tuple[Any, ...]:
    """The submit event of the ticket `ticket_id`, in `EVENT_COLUMNS` order."""
    created_at = bindparam("created_at", type_=_tickets.c.created_at.type)
    return (ticket_id, bindparam("requester_id", type_=Integer), constant(SUBMIT), null(),
            constant(INITIAL_STATE.value), constant(""), changes, created_at)


def _file_in_one_statement(picks: bool = False) -> Any:
    """Every write of a submission as one statement of data-modifying CTEs (PostgreSQL).

    The CTEs share one snapshot, so the notices are addressed to the bound watcher ids
    rather than read back from the watcher rows written alongside them. A statement that
    `picks` files the ticket with `NEXT_ABOVE_HIGHEST` as its extension, or files nothing
    when there is none or another ticket took it meanwhile; its first column is the number.
    """
    # One array parameter, not an expanding IN list: the statement's text is then the same
    # for any number of watchers and is not rendered again at every execution.
    watcher_ids = select(func.unnest(bindparam("watcher_ids", type_=ARRAY(Integer))))
    values: dict[str, Any] = {name: bindparam(name, type_=_tickets.c[name].type)
                              for name in TICKET_COLUMNS}
    changes: Any = bindparam("changes", type_=JSON)
    if picks:
        pick = NEXT_ABOVE_HIGHEST.cte("pick")
        values["extension"] = cast(pick.c.number, String)
        given = select(*values.values()).where(pick.c.number.is_not(None))
        new_ticket = (
            pg_insert(_tickets).from_select(TICKET_COLUMNS, given)
            .on_conflict_do_nothing()  # a race with another filing: the caller tries again
            .returning(_tickets.c.id, _tickets.c.extension).cte("new_ticket")
        )
        changes = cast(func.jsonb_set(
            bindparam("changes", type_=JSONB), literal_column("'{extension}'"),
            func.jsonb_build_array(null(), new_ticket.c.extension)), JSON)
    else:
        new_ticket = (
            insert(_tickets).from_select(TICKET_COLUMNS, select(*values.values()))
            .returning(_tickets.c.id).cte("new_ticket")
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
        .from_select(EVENT_COLUMNS, select(*_event_values(new_ticket.c.id, changes)))
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
    # A data-modifying CTE is rendered only when the statement names it.
    written = (select(func.count()).select_from(new_watchers).scalar_subquery(),
               select(func.count()).select_from(new_notices).scalar_subquery())
    if picks:
        return select(pick.c.number, select(new_ticket.c.id).scalar_subquery().label("id"),
                      *written)
    return select(new_ticket.c.id, *written)


_FILE_IN_ONE_STATEMENT = _file_in_one_statement()
_FILE_WITH_NEXT_EXTENSION = _file_in_one_statement(picks=True)
#: How many times a filing that picks tries again when another filing took its number.
PICK_ATTEMPTS = 3
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


def file_with_next_extension(session: Session, row: dict[str, Any], watcher_ids: list[int],
                             changes: dict[str, Any], policy: ExtensionPolicy
                             ) -> tuple[int, str] | None:
    """On PostgreSQL, write a new ticket as `file_ticket` does, with the first free extension
    above the highest in use as its own, picked by the same statement; (id, extension).

    None when that statement cannot pick (the top of the range is reached, or filings in
    flight hold every number it may take), or when other filings kept taking its number (the
    caller's next try then picks under the pick lock): nothing is written then. `changes`
    gets the picked extension. Commits at once when no transaction is open, as
    `file_ticket(commits_next=True)`.
    """
    params = {**row, **next_free_params(policy), "watcher_ids": watcher_ids,
              "changes": changes, "actor_id": row["requester_id"]}
    for _ in range(PICK_ATTEMPTS):
        filed = execute_alone(session, _FILE_WITH_NEXT_EXTENSION, params).one()
        if filed.number is None:
            return None
        if filed.id is not None:
            return int(filed.id), str(filed.number)
    return None
