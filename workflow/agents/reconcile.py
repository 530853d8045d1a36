"""Reconciling the phone system with the agent list: what differs, and putting it right."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy.orm import Session

from workflow import credentials
from workflow.calling.effective import Assignments, active_placements
from workflow.credentials import Vault
from workflow.domain.calling_rules import CallingRules
from workflow.domain.routing import Routing, RoutingType
from workflow.models import Agent
from workflow.ports import AccountMissing, PhoneAccount, PhoneSystem

#: The ticket id written against repairs (they answer no ticket).
RECONCILE_TICKET = 0


class Drift(StrEnum):
    """How the phone system differs from the agent list for one account."""

    MISSING = "missing"  # an active agent the phone system does not hold
    DIFFERENT = "different"  # held, with another extension or routing
    ORPHAN = "orphan"  # held, but no active agent has it


@dataclass(frozen=True)
class Difference:
    """One account where the phone system and the agent list disagree."""

    sip_username: str
    drift: Drift
    expected: PhoneAccount | None
    actual: PhoneAccount | None
    #: The employee of the active agent, if any (who gets a re-created account's password).
    employee_id: int | None = None


def differences(session: Session, phone: PhoneSystem) -> list[Difference]:
    """Every account where the phone system differs from the active agents."""
    profiles = Assignments(session)
    agents, expected = {}, {}
    for placement, agent in active_placements(session):
        agents[agent.sip_username] = agent
        expected[agent.sip_username] = _account(agent, profiles.effective(placement).rules)
    actual = phone.accounts()
    found = []
    for name in sorted(expected.keys() | actual.keys()):
        wanted, held = expected.get(name), actual.get(name)
        employee_id = agents[name].employee_id if name in agents else None
        if held is None:
            found.append(Difference(name, Drift.MISSING, wanted, None, employee_id))
        elif wanted is None:
            found.append(Difference(name, Drift.ORPHAN, None, held))
        elif held != wanted:
            found.append(Difference(name, Drift.DIFFERENT, wanted, held, employee_id))
    return found


def repair(session: Session, phone: PhoneSystem, vault: Vault, found: list[Difference]) -> None:
    """Make the phone system hold what the agent list says, for each difference.

    A lost account comes back with a new password, issued to its employee like any other.
    The caller commits the rest (the built-in directory writes in `session`).
    """
    for difference in found:
        wanted = difference.expected
        if wanted is None:
            phone.remove_account(difference.sip_username, RECONCILE_TICKET)
            continue
        try:
            phone.ensure_account(wanted, RECONCILE_TICKET)
        except AccountMissing:
            assert difference.employee_id is not None
            secret = credentials.issue(session, vault, wanted.sip_username,
                                       difference.employee_id, None)
            # Saved before the phone system has it: a password the switchboard holds and
            # agentdesk lost would lock the employee out without any drift to see.
            session.commit()
            phone.ensure_account(replace(wanted, secret=secret), RECONCILE_TICKET)


def _account(agent: Agent, calling: CallingRules) -> PhoneAccount:
    """What the phone system should hold for an active agent."""
    routing = Routing(RoutingType(agent.routing_type), agent.priority_number,
                      agent.backup_number)
    return PhoneAccount(agent.sip_username, agent.extension, routing, calling=calling)
