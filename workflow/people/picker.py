"""Who may be picked for which kind of ticket: employees with their agent and open ticket."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Agent, Employee, Ticket, in_open_state
from workflow.people import queries as people_queries
from workflow.tickets.kinds.kind import Kind


@dataclass(frozen=True)
class PickableEmployee:
    """An active employee of a department, their active agent and their open ticket, if any."""

    employee: Employee
    agent: Agent | None
    open_ticket_id: int | None


def employees_to_pick(session: Session, department_id: int, q: str | None = None
                      ) -> list[PickableEmployee]:
    """The department's active employees by given name (those whose name contains `q`, with
    or without diacritics), each with what decides which tickets fit."""
    rows = people_queries.list_employees(session, department_id, q)
    open_tickets = open_tickets_of(session, [employee.id for employee, _ in rows])
    return [PickableEmployee(employee, agent, open_tickets.get(employee.id))
            for employee, agent in rows]


def open_tickets_of(session: Session, employee_ids: Collection[int]) -> dict[int, int]:
    """The open ticket (at most one, by a unique index) of each of these employees that has one."""
    if not employee_ids:
        return {}
    found = session.execute(
        select(Ticket.employee_id, Ticket.id)
        .where(Ticket.employee_id.in_(employee_ids), in_open_state(Ticket.state))
    )
    return {employee_id: ticket_id for employee_id, ticket_id in found}


def refused_at_once(kind: Kind, has_agent: bool, open_ticket_id: int | None) -> bool:
    """Whether a ticket of `kind` for this employee would be refused whatever else it says:
    an open ticket blocks every kind, and the kind needs an agent or needs none."""
    if open_ticket_id is not None:
        return True
    return has_agent != kind.needs_agent
