"""The submit-time guard: a `phone` routing must not forward where the profile forbids."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflow.calling.effective import Assignments, placement_of_employee
from workflow.domain.calling_rules import forward_problems
from workflow.domain.errors import Problem
from workflow.domain.numbers import classify
from workflow.domain.routing import Routing, RoutingType
from workflow.models import current_organisation


def routing_problems(session: Session, employee_id: int, routing: Routing) -> dict[
        str, list[Problem]]:
    """Per-field reasons the employee's effective profile refuses this routing."""
    if routing.type is not RoutingType.PHONE:
        return {}
    rules = Assignments(session).effective(placement_of_employee(session, employee_id)).rules
    policy = current_organisation(session).policy
    problems: dict[str, list[Problem]] = {}
    for name, number in (("routing.priority_number", routing.priority_number),
                         ("routing.backup_number", routing.backup_number)):
        dialled = classify(number or "", policy)
        if dialled is None:
            continue  # parse_routing has already said so
        for problem in forward_problems(rules, [dialled.number_class]):
            field = "routing.type" if problem.code == "forwarding_not_allowed" else name
            if problem not in problems.get(field, []):
                problems.setdefault(field, []).append(problem)
    return problems
