"""A new account: an employee without an agent gets an extension, a routing and a SIP account."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from workflow.credentials import Vault
from workflow.ports import PhoneSystem
from workflow.tickets import completion
from workflow.tickets.claims import Claim
from workflow.tickets.kinds.extension_and_routing import plan_extension_and_routing
from workflow.tickets.kinds.kind import N_, Asked, Kind, Plan
from workflow.tickets.submission_context import SubmissionContext


def new_sip_username() -> str:
    """A stable SIP username, unrelated to the extension so renumbering keeps credentials."""
    return "ag" + secrets.token_hex(6)


def plan(session: Session, asked: Asked, context: SubmissionContext) -> Plan:
    """The extension (asked for, or the first free one) and routing of the new account."""
    return replace(plan_extension_and_routing(session, asked, context),
                   sip_username=new_sip_username())


def apply(
    session: Session, claims: Sequence[Claim], phone: PhoneSystem, vault: Vault
) -> dict[int, dict[str, Any]]:
    """Create the accounts, each with a new SIP password, and add their agents."""
    return completion.create_agents(session, claims, phone, vault)


KIND = Kind(
    code="new",
    label=N_("Cấp mới TK"),
    needs_agent=False, routes=True, picks_extension=True, resets_password=False,
    removes_account=False, plan=plan, apply=apply,
)
