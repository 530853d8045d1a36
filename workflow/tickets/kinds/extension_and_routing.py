"""The plan shared by kinds that set an extension and a routing (a new account, a change)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workflow.calling.forwarding import routing_problems
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Problem, RuleViolation
from workflow.domain.routing import Routing, RoutingType, parse_routing
from workflow.domain.rules import extension_problems
from workflow.models import Agent
from workflow.tickets.extensions import availability_problems, pick_free_extension
from workflow.tickets.kinds.kind import Asked, Plan
from workflow.tickets.submission_context import Pick, SubmissionContext


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


def plan_extension_and_routing(
    session: Session, asked: Asked, context: SubmissionContext
) -> Plan:
    """Validate the requested extension and routing of a new or change ticket."""
    problems: dict[str, list[Problem]] = {}
    agent, policy = context.agent, context.policy
    routing: Routing | None = None
    if asked.routing_type is not None or agent is None:
        try:
            routing = parse_routing(asked.routing_type, asked.priority_number, asked.backup_number)
        except RuleViolation as violation:
            problems.update(violation.problems)
    extension = asked.requested_extension
    at_filing = agent is None and extension is None and context.pick is Pick.AT_FILING
    if agent is None and extension is None and not at_filing:
        extension = pick_free_extension(session, policy, locked=context.pick is Pick.LOCKED)
        if extension is None:
            problems["extension"] = [Problem(ErrorCode.EXTENSION_NONE_FREE)]
    if agent is not None and extension == agent.extension:
        extension = None
    if extension is not None:
        # The context looked up the requested extension; a picked one is free by construction.
        found = extension_problems(policy, extension) or availability_problems(
            extension, context.extension_holder, context.extension_ticket_id
        )
        if found:
            problems["extension"] = found
    if agent is not None and routing is not None and routing == agent_routing(agent):
        routing = None
    if routing is not None:
        # A new forward must stay within the calling profile (an unchanged one is kept).
        problems.update(routing_problems(session, context.employee_id, routing))
    reset_password = agent is not None and asked.reset_password
    if (agent is not None and not problems and extension is None and routing is None
            and not reset_password):
        problems["extension"] = [Problem(ErrorCode.NOTHING_TO_CHANGE)]
    if problems:
        raise RuleViolation(problems)
    return Plan(extension=extension, routing=routing, reset_password=reset_password,
                changes=_changes(agent, extension, routing, reset_password),
                extension_at_filing=at_filing)


def _changes(agent: Agent | None, extension: str | None, routing: Routing | None,
             reset_password: bool) -> dict[str, Any]:
    """The audit trail's [before, after] pairs of a planned extension and routing."""
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
    if reset_password:
        changes["reset_password"] = True
    return changes
