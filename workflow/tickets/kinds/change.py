"""A change: an agent's extension, routing or SIP password, on the phone system and its row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from workflow.calling.effective import Assignments, placement_of_employee
from workflow.credentials import Vault
from workflow.domain.routing import Routing, RoutingType
from workflow.models import utcnow
from workflow.ports import AccountMissing, PhoneAccount, PhoneSystem
from workflow.tickets.claims import Claim
from workflow.tickets.kinds.existing_agent import agent_of, issue_password, update_agent
from workflow.tickets.kinds.extension_and_routing import plan_extension_and_routing
from workflow.tickets.kinds.kind import N_, Kind


def apply(
    session: Session, claims: Sequence[Claim], phone: PhoneSystem, vault: Vault
) -> dict[int, dict[str, Any]]:
    """Bring each account to its new extension and routing (and password, if asked)."""
    return {claim.id: _apply_one(session, claim, phone, vault) for claim in claims}


def _apply_one(session: Session, claim: Claim, phone: PhoneSystem, vault: Vault) -> dict[
    str, Any
]:
    """Change one account, then its agent row."""
    now = utcnow()
    agent = agent_of(session, claim)
    current = Routing(RoutingType(agent.routing_type), agent.priority_number, agent.backup_number)
    routing = claim.routing or current
    extension = claim.extension or agent.extension
    calling = Assignments(session).effective(
        placement_of_employee(session, claim.employee_id)).rules
    account = PhoneAccount(agent.sip_username, extension, routing, calling=calling)
    if claim.reset_password:
        account = replace(account, secret=issue_password(session, vault, claim, agent.sip_username))
    try:
        phone.ensure_account(account, claim.id)
    except AccountMissing:
        # The switchboard lost the account: it comes back with a new password, which
        # reaches the employee like any other.
        phone.ensure_account(
            replace(account, secret=issue_password(session, vault, claim, agent.sip_username)),
            claim.id)
    return update_agent(session, claim, now, extension=extension,
                        routing_type=routing.type.value,
                        priority_number=routing.priority_number,
                        backup_number=routing.backup_number)


KIND = Kind(
    code="change",
    label=N_("Đổi tài khoản"),
    needs_agent=True, routes=True, picks_extension=False, resets_password=True,
    removes_account=False, plan=plan_extension_and_routing, apply=apply,
)
