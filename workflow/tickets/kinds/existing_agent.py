"""The agent a ticket about an existing account works on: read its row, then update it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from workflow import credentials
from workflow.credentials import Vault
from workflow.models import Agent
from workflow.tickets.claims import Claim


def agent_of(
    session: Session, claim: Claim
) -> Row[str, str, str, str | None, str | None]:
    """The SIP username, extension and routing of the agent the claim is about."""
    return session.execute(
        select(Agent.sip_username, Agent.extension, Agent.routing_type, Agent.priority_number,
               Agent.backup_number).where(Agent.id == claim.agent_id)
    ).one()


def update_agent(session: Session, claim: Claim, now: datetime, **values: Any) -> dict[str, Any]:
    """Write `values` on the claim's agent as of `now`; returns the ticket's completion changes."""
    session.execute(update(Agent).where(Agent.id == claim.agent_id)
                    .values(updated_at=now, **values))
    return {"agent_id": claim.agent_id}


def issue_password(session: Session, vault: Vault, claim: Claim, sip_username: str) -> str:
    """The new SIP password this ticket gives the agent."""
    return credentials.issue(session, vault, sip_username, claim.employee_id, claim.id)
