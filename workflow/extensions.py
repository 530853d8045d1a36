"""The organisation's extension policy, and which extensions are free."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from workflow.errors import NotFound, Problem, RuleViolation
from workflow.models import OPEN_STATE_VALUES, Agent, Employee, Organisation, Ticket, table
from workflow.rules import ExtensionPolicy, candidate_extensions, extension_problems

#: PostgreSQL advisory lock key serialising automatic extension picks ("adsx").
PICK_LOCK_KEY = 0x61647378


def current_organisation(session: Session) -> Organisation:
    """The organisation this installation serves."""
    organisation = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if organisation is None:
        raise NotFound("organisation_missing")
    return organisation


_agents, _employees, _tickets = table(Agent).c, table(Employee).c, table(Ticket).c
#: The employee holding the extension bound as `extension`, as a scalar subquery.
HOLDER_OF_EXTENSION = (
    select(_employees.full_name)
    .join_from(table(Agent), table(Employee), _agents.employee_id == _employees.id)
    .where(_agents.extension == bindparam("extension"), _agents.status == "active")
    .limit(1)
    .scalar_subquery()
)
#: The open ticket asking for the extension bound as `extension`, as a scalar subquery.
TICKET_FOR_EXTENSION = (
    select(_tickets.id)
    .where(_tickets.extension == bindparam("extension"), _tickets.state.in_(OPEN_STATE_VALUES))
    .limit(1)
    .scalar_subquery()
)


def availability_problems(
    extension: str, holder: str | None, ticket_id: int | None
) -> list[Problem]:
    """Why `extension` cannot be requested, given who holds it and which ticket asks for it."""
    if holder is not None:
        return [Problem("extension_taken", {"extension": extension, "holder": holder})]
    if ticket_id is not None:
        return [Problem("extension_pending", {"extension": extension, "ticket_id": ticket_id})]
    return []


def taken_extensions(session: Session) -> set[str]:
    """Extensions held by active agents or requested by open tickets."""
    held = session.scalars(select(Agent.extension).where(Agent.status == "active"))
    pending = session.scalars(
        select(Ticket.extension).where(
            Ticket.state.in_(OPEN_STATE_VALUES), Ticket.extension.is_not(None)
        )
    )
    return {*held, *(extension for extension in pending if extension)}


def suggest_extension(session: Session, policy: ExtensionPolicy) -> str | None:
    """The smallest valid extension nobody holds or has asked for, or None when all are used."""
    taken = taken_extensions(session)
    return next((ext for ext in candidate_extensions(policy) if ext not in taken), None)


def pick_free_extension(session: Session, policy: ExtensionPolicy) -> str | None:
    """Suggest an extension for a ticket about to be saved, one picker at a time.

    Without the lock, two submissions in flight pick the same smallest free number and
    the second one fails on the unique index; the lock lasts until the transaction ends.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(PICK_LOCK_KEY)))
    return suggest_extension(session, policy)


def update_policy(session: Session, length: int, prefix: str, reserved: list[str]) -> Organisation:
    """Change the extension policy unless it would invalidate active extensions."""
    policy = ExtensionPolicy(length, prefix, frozenset(reserved))
    problems = policy.problems()
    if problems:
        raise RuleViolation({"policy": problems})
    active = session.scalars(select(Agent.extension).where(Agent.status == "active"))
    broken = sorted(ext for ext in active if extension_problems(policy, ext))
    if broken:
        raise RuleViolation.single("policy", "policy_breaks_extensions", extensions=broken)
    organisation = current_organisation(session)
    organisation.extension_length = length
    organisation.extension_prefix = prefix
    organisation.reserved_extensions = sorted(set(reserved))
    session.commit()
    return organisation
