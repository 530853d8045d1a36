"""Completing claimed tickets in set-based statements: one per step, not one per ticket.

`complete_all` is meant for phone systems that write in the caller's transaction: their
writes and the tickets' outcomes then commit or roll back as one, whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from workflow import credentials
from workflow.calling.effective import Assignments, placements_of_employees
from workflow.credentials import Vault
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict
from workflow.domain.machine import Action, sources, target
from workflow.domain.routing import Routing
from workflow.domain.rules import AgentStatus
from workflow.models import Agent, UTCDateTime, state_in, table, utcnow
from workflow.ports import PhoneAccount, PhoneSystem
from workflow.tickets.claims import EVENTS, TICKETS, Claim, event_row
from workflow.tickets.notifications import notify_all

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
