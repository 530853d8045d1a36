"""Reconciling the phone system with the agent list: what differs, and putting it right."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Agent, is_active
from workflow.ports import PhoneAccount, PhoneSystem
from workflow.routing import Routing, RoutingType

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


def differences(session: Session, phone: PhoneSystem) -> list[Difference]:
    """Every account where the phone system differs from the active agents."""
    expected = {agent.sip_username: _account(agent) for agent in session.scalars(
        select(Agent).where(is_active(Agent.status)))}
    actual = phone.accounts()
    found = []
    for name in sorted(expected.keys() | actual.keys()):
        wanted, held = expected.get(name), actual.get(name)
        if held is None:
            found.append(Difference(name, Drift.MISSING, wanted, None))
        elif wanted is None:
            found.append(Difference(name, Drift.ORPHAN, None, held))
        elif held != wanted:
            found.append(Difference(name, Drift.DIFFERENT, wanted, held))
    return found


def repair(phone: PhoneSystem, found: list[Difference]) -> None:
    """Make the phone system hold what the agent list says, for each difference."""
    for difference in found:
        if difference.expected is None:
            phone.remove_account(difference.sip_username, RECONCILE_TICKET)
        else:
            phone.ensure_account(difference.expected, RECONCILE_TICKET)


def _account(agent: Agent) -> PhoneAccount:
    """What the phone system should hold for an active agent."""
    routing = Routing(RoutingType(agent.routing_type), agent.priority_number,
                      agent.backup_number)
    return PhoneAccount(agent.sip_username, agent.extension, routing)
