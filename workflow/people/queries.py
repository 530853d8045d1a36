"""Read queries of the structure pages: one branch, department or employee, and names to pick."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflow.models import Branch, Department, Employee
from workflow.tickets.queries import organisation_structure


def find_branch(session: Session, branch_id: int | None) -> Branch | None:
    """The branch with this id (None for a new one, or when there is none)."""
    return session.get(Branch, branch_id) if branch_id else None


def find_department(session: Session, department_id: int | None) -> Department | None:
    """The department with this id (None for a new one, or when there is none)."""
    return session.get(Department, department_id) if department_id else None


def find_employee(session: Session, employee_id: int | None) -> Employee | None:
    """The employee with this id (None for a new one, or when there is none)."""
    return session.get(Employee, employee_id) if employee_id else None


def department_names(session: Session) -> dict[int, str]:
    """Each department as "Branch — Department" (branches often share department names), by
    branch name then department name, active or not."""
    return {department.id: f"{branch.name} — {department.name}"
            for branch, departments in organisation_structure(session)
            for department in departments}


def branch_names(session: Session) -> dict[int, str]:
    """Each branch's name by its id, by name, active or not."""
    return {branch.id: branch.name for branch, _departments in organisation_structure(session)}
