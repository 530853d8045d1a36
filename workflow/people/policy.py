"""The extension policy, changed only when every active extension keeps to it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import RuleViolation
from workflow.domain.rules import ExtensionPolicy, extension_problems
from workflow.models import (
    Agent,
    Organisation,
    current_organisation,
    is_active,
)
from workflow.permissions import require_admin


def update_policy(session: Session, length: int, prefix: str, reserved: list[str], *,
                  actor_id: int | None) -> Organisation:
    """Change the extension policy unless it would invalidate active extensions (admins)."""
    require_admin(session, actor_id)
    if not all(number.isascii() and number.isdecimal() for number in reserved):
        raise RuleViolation.single("reserved", ErrorCode.RESERVED_DIGITS)
    policy = ExtensionPolicy(length, prefix, frozenset(reserved))
    problems = policy.problems()
    if problems:
        raise RuleViolation({"policy": problems})
    active = session.scalars(select(Agent.extension).where(is_active(Agent.status)))
    broken = sorted(ext for ext in active if extension_problems(policy, ext))
    if broken:
        raise RuleViolation.single("policy", ErrorCode.POLICY_BREAKS_EXTENSIONS, extensions=broken)
    organisation = current_organisation(session)
    organisation.extension_length = length
    organisation.extension_prefix = prefix
    organisation.reserved_extensions = sorted(set(reserved))
    session.commit()
    return organisation
