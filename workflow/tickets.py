"""Submitting a setup ticket: new, change or revoke an employee's agent account."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from workflow.errors import Conflict, Problem, RuleViolation
from workflow.extensions import (
    current_organisation,
    extension_availability,
    pick_free_extension,
)
from workflow.machine import Status
from workflow.models import (
    OPEN_STATE_VALUES,
    Agent,
    Employee,
    Ticket,
    TicketEvent,
    User,
    utcnow,
)
from workflow.notifications import Audience, notify
from workflow.routing import Routing, RoutingType, parse_routing
from workflow.rules import Actor, extension_problems

logger = logging.getLogger(__name__)

#: Longest free-text description a ticket may carry.
MAX_DETAILS_LENGTH = 2000


class TicketKind(StrEnum):
    """What a ticket asks for."""

    NEW = "new"
    CHANGE = "change"
    REVOKE = "revoke"


@dataclass(frozen=True)
class TicketRequest:
    """A requester's ticket, as parsed from a form or the API."""

    kind: TicketKind
    employee_id: int
    extension: str | None = None
    routing_type: str | None = None
    priority_number: str | None = None
    backup_number: str | None = None
    details: str = ""
    notify_user_ids: tuple[int, ...] = ()
    idempotency_key: str | None = None


@dataclass
class _Plan:
    """What a ticket will change, worked out before it is saved."""

    extension: str | None = None
    routing: Routing | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def routing_as_dict(routing_type: str | None, priority: str | None, backup: str | None) -> dict[
    str, Any
] | None:
    """A routing as it appears in audit changes and API output."""
    if routing_type is None:
        return None
    return {"type": routing_type, "priority_number": priority, "backup_number": backup}


def agent_routing(agent: Agent) -> Routing:
    """The current routing of an agent."""
    return Routing(RoutingType(agent.routing_type), agent.priority_number, agent.backup_number)


def new_sip_username() -> str:
    """A stable SIP username, unrelated to the extension so renumbering keeps credentials."""
    return "ag" + secrets.token_hex(6)


def submit_ticket(session: Session, actor: Actor, request: TicketRequest) -> Ticket:
    """File a ticket after checking every rule; the same idempotency key yields one ticket."""
    if request.idempotency_key and (found := _by_idempotency_key(session, actor, request)):
        return found
    employee, agent, open_ticket = _employee_state(session, request.employee_id)
    plan = _plan(session, request, agent, open_ticket)
    ticket = Ticket(
        kind=request.kind.value,
        employee=employee,
        branch_id=employee.department.branch_id,
        agent_id=agent.id if agent else None,
        extension=plan.extension,
        routing_type=plan.routing.type.value if plan.routing else None,
        priority_number=plan.routing.priority_number if plan.routing else None,
        backup_number=plan.routing.backup_number if plan.routing else None,
        sip_username=new_sip_username() if request.kind is TicketKind.NEW else None,
        details=request.details.strip(),
        requester_id=actor.user_id,
        idempotency_key=request.idempotency_key,
    )
    ticket.watchers = _watchers(session, request.notify_user_ids) if request.notify_user_ids else []
    event = TicketEvent(
        actor_id=actor.user_id, action="submit", from_state=None,
        to_state=Status.SUBMITTED.value, changes=plan.changes, created_at=utcnow(),
    )
    ticket.events.append(event)
    session.add(ticket)
    try:
        session.flush()
        audience = Audience(ticket.id, actor.user_id, ticket.branch_id,
                            frozenset(request.notify_user_ids))
        notify(session, audience, event.id, event.action, actor.user_id)
        session.commit()
    except IntegrityError as error:
        session.rollback()
        if request.idempotency_key and (found := _by_idempotency_key(session, actor, request)):
            return found
        raise _conflict_from(error) from None
    logger.info("ticket %s submitted by user %s (%s)", ticket.id, actor.user_id, ticket.kind)
    return ticket


def _watchers(session: Session, user_ids: tuple[int, ...]) -> list[User]:
    """The users to notify, all of whom must exist."""
    users = list(session.scalars(select(User).where(User.id.in_(user_ids), User.active)))
    if len(users) != len(set(user_ids)):
        raise RuleViolation.single("notify_user_ids", "unknown_user")
    return users


def _by_idempotency_key(session: Session, actor: Actor, request: TicketRequest) -> Ticket | None:
    """The ticket this requester already filed with the same idempotency key."""
    return session.scalar(
        select(Ticket).where(
            Ticket.requester_id == actor.user_id,
            Ticket.idempotency_key == request.idempotency_key,
        )
    )


def _conflict_from(error: IntegrityError) -> Conflict:
    """Translate a unique-index race into the conflict it stands for."""
    text = str(error.orig)
    if "uq_ticket_open_extension" in text or "ticket.extension" in text:
        return Conflict("extension_race")
    if "uq_ticket_open_employee" in text or "ticket.employee_id" in text:
        return Conflict("employee_race")
    return Conflict("conflict")


def _employee_state(
    session: Session, employee_id: int
) -> tuple[Employee, Agent | None, int | None]:
    """The employee with their department, active agent and open ticket, in one query."""
    open_ticket = (
        select(Ticket.id)
        .where(Ticket.employee_id == Employee.id, Ticket.state.in_(OPEN_STATE_VALUES))
        .limit(1)
        .scalar_subquery()
    )
    row = session.execute(
        select(Employee, Agent, open_ticket)
        .outerjoin(Agent, (Agent.employee_id == Employee.id) & (Agent.status == "active"))
        .options(joinedload(Employee.department))
        .where(Employee.id == employee_id, Employee.active)
    ).first()
    if row is None:
        raise RuleViolation.single("employee_id", "employee_unknown")
    return row[0], row[1], row[2]


def _plan(
    session: Session, request: TicketRequest, agent: Agent | None, open_ticket: int | None
) -> _Plan:
    """Check the rules of `request.kind` and work out what the ticket will change."""
    problems: dict[str, list[Problem]] = {}
    if open_ticket is not None:
        problems["employee_id"] = [Problem("employee_has_open_ticket", {"ticket_id": open_ticket})]
    if len(request.details) > MAX_DETAILS_LENGTH:
        problems["details"] = [Problem("details_too_long", {"max": MAX_DETAILS_LENGTH})]
    if request.kind is TicketKind.NEW and agent is not None:
        problems.setdefault("employee_id", []).append(
            Problem("employee_has_agent", {"extension": agent.extension})
        )
    if request.kind is not TicketKind.NEW and agent is None:
        problems.setdefault("employee_id", []).append(Problem("employee_has_no_agent"))
    if problems:
        raise RuleViolation(problems)
    if request.kind is TicketKind.REVOKE:
        assert agent is not None
        return _Plan(changes={"extension": [agent.extension, None]})
    return _plan_new_or_change(session, request, agent)


def _plan_new_or_change(session: Session, request: TicketRequest, agent: Agent | None) -> _Plan:
    """Validate the requested extension and routing of a new or change ticket."""
    problems: dict[str, list[Problem]] = {}
    routing: Routing | None = None
    if request.routing_type is not None or agent is None:
        try:
            routing = parse_routing(
                request.routing_type, request.priority_number, request.backup_number
            )
        except RuleViolation as violation:
            problems.update(violation.problems)
    extension = request.extension.strip() if request.extension else None
    policy = current_organisation(session).policy
    if agent is None and extension is None:
        extension = pick_free_extension(session, policy)
        if extension is None:
            problems["extension"] = [Problem("extension_none_free")]
    if agent is not None and extension == agent.extension:
        extension = None
    if extension is not None:
        found = extension_problems(policy, extension) or extension_availability(
            session, extension
        )
        if found:
            problems["extension"] = found
    if agent is not None and routing is not None and routing == agent_routing(agent):
        routing = None
    if agent is not None and not problems and extension is None and routing is None:
        problems["extension"] = [Problem("nothing_to_change")]
    if problems:
        raise RuleViolation(problems)
    changes: dict[str, Any] = {}
    if extension is not None:
        changes["extension"] = [agent.extension if agent else None, extension]
    if routing is not None:
        before = (
            routing_as_dict(agent.routing_type, agent.priority_number, agent.backup_number)
            if agent else None
        )
        after = routing_as_dict(routing.type.value, routing.priority_number, routing.backup_number)
        changes["routing"] = [before, after]
    return _Plan(extension=extension, routing=routing, changes=changes)
