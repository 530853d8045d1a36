"""A revoke: the agent's account leaves the phone system and its extension is freed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from workflow import credentials
from workflow.credentials import Vault
from workflow.domain.rules import AgentStatus
from workflow.models import utcnow
from workflow.ports import PhoneSystem
from workflow.tickets.claims import Claim
from workflow.tickets.kinds.existing_agent import agent_of, update_agent
from workflow.tickets.kinds.kind import N_, Asked, Kind, Plan
from workflow.tickets.submission_context import SubmissionContext


def plan(session: Session, asked: Asked, context: SubmissionContext) -> Plan:
    """Nothing to check beyond the agent: the extension goes (extension and routing asked
    for are ignored)."""
    return Plan(changes={"extension": [context.agent_extension, None]})


def apply(
    session: Session, claims: Sequence[Claim], phone: PhoneSystem, vault: Vault
) -> dict[int, dict[str, Any]]:
    """Remove each account, withdraw its unread password and mark its agent revoked."""
    return {claim.id: _apply_one(session, claim, phone) for claim in claims}


def _apply_one(session: Session, claim: Claim, phone: PhoneSystem) -> dict[str, Any]:
    """Revoke one account, then its agent row."""
    now = utcnow()
    sip_username = agent_of(session, claim).sip_username
    phone.remove_account(sip_username, claim.id)
    credentials.withdraw(session, sip_username)
    return update_agent(session, claim, now, status=AgentStatus.REVOKED.value, revoked_at=now)


KIND = Kind(
    code="revoke",
    label=N_("Ngừng cấp TK cloud phone"),
    needs_agent=True, routes=False, picks_extension=False, resets_password=False,
    removes_account=True, plan=plan, apply=apply,
)
