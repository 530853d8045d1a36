"""Completing claimed tickets in set-based statements: one per step, not one per ticket.

`complete_all` is meant for phone systems that write in the caller's transaction: their
writes and the tickets' outcomes then commit or roll back as one, whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    Select,
    bindparam,
    column,
    func,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session

from workflow import credentials
from workflow.calling.effective import Assignments, placements_of_employees
from workflow.credentials import Vault
from workflow.db import constant
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict
from workflow.domain.machine import Action, source, sources, target
from workflow.domain.routing import Routing
from workflow.domain.rules import AgentStatus
from workflow.models import Agent, UTCDateTime, on_postgresql, state_in, table, utcnow
from workflow.ports import PhoneAccount, PhoneSystem
from workflow.tickets.claims import EVENTS, TICKETS, Claim, event_row
from workflow.tickets.notifications import notify_all, worker_notice_ctes
from workflow.tickets.transitions import EVENT_COLUMNS

_AGENTS = table(Agent)

_ADD_AGENTS = insert(_AGENTS).returning(_AGENTS.c.id, _AGENTS.c.employee_id)
#: Compare-and-set on the claimed version: a worker whose lease ran out changes nothing.
_COMPLETE = (
    update(TICKETS)
    .where(TICKETS.c.id == bindparam("b_id"),
           state_in(TICKETS.c.state, sources(Action.COMPLETE)),
           TICKETS.c.version == bindparam("b_version"))
    .values(state=target(Action.COMPLETE).value, version=TICKETS.c.version + 1,
            updated_at=bindparam("b_now", type_=UTCDateTime()), agent_id=bindparam("b_agent"),
            lease_until=None, last_error=None)
)
_ADD_EVENTS = insert(EVENTS).returning(EVENTS.c.id, EVENTS.c.ticket_id)


def _completing_in_one_statement() -> Select[Any]:
    """`complete_all` as one statement of data-modifying CTEs (PostgreSQL): the moves, their
    `complete` events, the notices and the retiring of those they replace. It answers how
    many tickets moved.

    It binds `given`, a JSON array of {id, version, agent_id, changes} (one per claim), and
    `now`: no column of the tables it updates has either name (an UPDATE takes a parameter
    named after one of its columns as a value to set, see `db.binds_prefixed`).
    """
    rows = func.json_to_recordset(bindparam("given", type_=JSON)).table_valued(
        column("id", Integer), column("version", Integer), column("agent_id", Integer),
        column("changes", JSON),
    ).render_derived(name="given_rows", with_types=True)
    given = select(rows).cte("given")
    now = bindparam("now", type_=UTCDateTime())
    moved = (
        update(TICKETS)
        .where(TICKETS.c.id == given.c.id, TICKETS.c.version == given.c.version,
               state_in(TICKETS.c.state, sources(Action.COMPLETE)))
        .values(state=target(Action.COMPLETE).value, version=TICKETS.c.version + 1,
                updated_at=now, agent_id=given.c.agent_id, lease_until=None, last_error=None)
        .returning(TICKETS.c.id, TICKETS.c.requester_id)
        .cte("moved")
    )
    events = (
        select(moved.c.id, null(), constant(Action.COMPLETE.value),
               constant(source(Action.COMPLETE).value), constant(target(Action.COMPLETE).value),
               constant(""), given.c.changes, now)
        .join_from(moved, given, given.c.id == moved.c.id)
    )
    new_events = (
        insert(EVENTS).from_select(EVENT_COLUMNS, events)
        .returning(EVENTS.c.id, EVENTS.c.ticket_id)
        .cte("new_events")
    )
    written = worker_notice_ctes(new_events, moved)
    # SQLAlchemy renders only the CTEs the statement names.
    return select(
        select(func.count()).select_from(moved).scalar_subquery(),
        *(select(func.count()).select_from(cte).scalar_subquery()
          for cte in (new_events, *written)))


_COMPLETE_ALL = _completing_in_one_statement()


def create_agents(
    session: Session, claims: Sequence[Claim], phone: PhoneSystem, vault: Vault
) -> dict[int, dict[str, Any]]:
    """Apply new-account claims to the phone system and add their agents; changes by ticket.

    Each account gets a new SIP password, kept encrypted for its employee to see once.
    """
    if not claims:
        return {}
    now = utcnow()
    passwords = credentials.issue_all(session, vault, [
        credentials.Issue(_named(claim), claim.employee_id, claim.id) for claim in claims])
    profiles = Assignments(session)
    placements = placements_of_employees(session, {claim.employee_id for claim in claims})
    accounts = []
    rows = []
    for claim, secret in zip(claims, passwords, strict=True):
        assert claim.extension is not None and claim.sip_username is not None
        routing = claim.routing or Routing()
        calling = profiles.effective(placements[claim.employee_id]).rules
        accounts.append((
            PhoneAccount(claim.sip_username, claim.extension, routing, secret, calling),
            claim.id))
        rows.append({"employee_id": claim.employee_id, "extension": claim.extension,
                     "sip_username": claim.sip_username, "routing_type": routing.type.value,
                     "priority_number": routing.priority_number,
                     "backup_number": routing.backup_number, "status": AgentStatus.ACTIVE.value,
                     "created_at": now, "updated_at": now, "revoked_at": None})
    phone.ensure_accounts(accounts)
    # Rows come back in any order; an employee has one active agent, so it maps them back.
    added = session.connection().execute(_ADD_AGENTS, rows)
    agent_of = {employee_id: agent_id for agent_id, employee_id in added}
    return {claim.id: {"agent_id": agent_of[claim.employee_id], "sip_username": claim.sip_username}
            for claim in claims}


def _named(claim: Claim) -> str:
    """The SIP username a new-account claim carries."""
    assert claim.sip_username is not None
    return claim.sip_username


def complete_all(
    session: Session, claims: Sequence[Claim], changes: dict[int, dict[str, Any]]
) -> None:
    """Move every claim to provisioned, with its `complete` event and in-app notices."""
    now = utcnow()
    connection = session.connection()
    if on_postgresql(session):
        given = [{"id": claim.id, "version": claim.version,
                  "agent_id": changes[claim.id]["agent_id"], "changes": changes[claim.id]}
                 for claim in claims]
        moved = connection.execute(_COMPLETE_ALL, {"given": given, "now": now})
        if moved.scalar_one() != len(claims):
            # A lease ran out and another worker took a ticket over: its result stands (the
            # caller rolls back what this statement wrote for the others).
            raise Conflict(ErrorCode.TICKET_CHANGED, ticket_ids=[claim.id for claim in claims])
        return
    moved = connection.execute(_COMPLETE, [
        {"b_id": claim.id, "b_version": claim.version, "b_now": now,
         "b_agent": changes[claim.id]["agent_id"]}
        for claim in claims
    ])
    if moved.rowcount != len(claims):
        # A lease ran out and another worker took a ticket over: its result stands.
        raise Conflict(ErrorCode.TICKET_CHANGED, ticket_ids=[claim.id for claim in claims])
    event_of = {ticket_id: event_id for event_id, ticket_id in connection.execute(_ADD_EVENTS, [
        event_row(claim.id, Action.COMPLETE, now, changes[claim.id])
        for claim in claims
    ])}
    notify_all(session, [(claim.audience, event_of[claim.id]) for claim in claims],
               Action.COMPLETE.value, None)
