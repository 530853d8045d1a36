"""Keeping the organisation's structure: branches, departments and employees.

Nothing is deleted: tickets and agents keep pointing at what they were about. Deactivating
takes a unit out of the pickers, and is refused while someone in it holds an active agent
(revoke the agent first, so the phone system is cleaned up too).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.calling.admin import assign_job_role
from workflow.calling.sync import request_sync
from workflow.domain import text
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound, RuleViolation
from workflow.domain.rules import BRANCH_KINDS
from workflow.models import Agent, Branch, Department, Employee, is_active
from workflow.permissions import require_admin
from workflow.tickets.relocation import follow_employees

Unit = TypeVar("Unit", Branch, Department, Employee)

#: Longest names and codes the tables keep.
MAX_NAME, MAX_CODE, MAX_EMAIL = 200, 40, 254


def save_branch(
    session: Session, branch_id: int | None, name: str, kind: str, active: bool = True, *,
    actor_id: int | None,
) -> Branch:
    """Create a branch (no id) or change one (admins)."""
    require_admin(session, actor_id)
    name = _required_name(name)
    if kind not in BRANCH_KINDS:
        raise RuleViolation.single("kind", ErrorCode.BRANCH_KIND_UNKNOWN)
    branch = _get(session, Branch, branch_id) if branch_id else None
    if branch is None:
        organisation_id = session.scalar(select(func.min(Branch.organisation_id)))
        branch = Branch(organisation_id=organisation_id)
        session.add(branch)
    elif branch.active and not active:
        _refuse_if_agents(session, Department.branch_id == branch.id)
    branch.name, branch.kind, branch.active = name, kind, active
    session.commit()
    return branch


def save_department(
    session: Session, department_id: int | None, branch_id: int, name: str, active: bool = True,
    *, actor_id: int | None,
) -> Department:
    """Create a department in a branch (no id) or change one (admins)."""
    require_admin(session, actor_id)
    name = _required_name(name)
    _get(session, Branch, branch_id)
    department = _get(session, Department, department_id) if department_id else None
    if department is None:
        department = Department()
        session.add(department)
    elif department.active and not active:
        _refuse_if_agents(session, Employee.department_id == department.id)
    moved = department.id is not None and department.branch_id != branch_id
    department.branch_id, department.name, department.active = branch_id, name, active
    if moved:  # its staff's open tickets go to the approvers of the new branch
        follow_employees(session, actor_id)
    session.commit()
    return department


def save_employee(
    session: Session, employee_id: int | None, department_id: int, full_name: str,
    employee_code: str = "", email: str = "", active: bool = True, *,
    actor_id: int | None,
) -> Employee:
    """Create an employee in a department (no id) or change one (admins)."""
    require_admin(session, actor_id)
    employee = _apply_employee(session, employee_id, department_id, full_name, employee_code,
                               email, active, actor_id)
    session.commit()
    return employee


def save_employee_with_role(
    session: Session, employee_id: int | None, department_id: int, full_name: str,
    employee_code: str, email: str, active: bool, actor_id: int, job_role_id: int | None,
) -> Employee:
    """save_employee and the employee's job role in one transaction: a refusal of either
    leaves both as they were."""
    require_admin(session, actor_id)
    existing = session.get(Employee, employee_id) if employee_id else None
    if existing is not None and existing.job_role_id != job_role_id:
        # The role first, so a forward it would outlaw is judged where the employee works now.
        assign_job_role(session, actor_id, existing.id, job_role_id)
    employee = _apply_employee(session, employee_id, department_id, full_name, employee_code,
                               email, active, actor_id)
    if existing is None and job_role_id is not None:
        session.flush()
        assign_job_role(session, actor_id, employee.id, job_role_id)
    session.commit()
    return employee


def _apply_employee(
    session: Session, employee_id: int | None, department_id: int, full_name: str,
    employee_code: str, email: str, active: bool, actor_id: int | None,
) -> Employee:
    """The employee created or changed in the session, not yet committed."""
    full_name = _required_name(full_name, "full_name")
    code = text.one_line(employee_code, "employee_code", MAX_CODE, required=False)
    email = text.email_address(email, "email") or ""
    _get(session, Department, department_id)
    employee = _get(session, Employee, employee_id) if employee_id else None
    if employee is None:
        employee = Employee()
        session.add(employee)
    elif employee.active and not active:
        _refuse_if_agents(session, Employee.id == employee.id)
    moved = employee.id is not None and employee.department_id != department_id
    employee.department_id, employee.full_name = department_id, full_name
    employee.employee_code, employee.email, employee.active = code or None, email or None, active
    if moved:
        # Another department may mean another calling profile on the phone system.
        request_sync(session, None)
        # And another branch, whose approvers then decide the employee's open tickets.
        follow_employees(session, actor_id, [employee.id])
    return employee


def _required_name(name: str, field: str = "name") -> str:
    """A trimmed, non-empty, one-line name of sane length."""
    return text.one_line(name, field, MAX_NAME)


def _get(session: Session, model: type[Unit], entity_id: int | None) -> Unit:
    """The row with this id, or NotFound."""
    found = session.get(model, entity_id) if entity_id else None
    if found is None:
        raise NotFound(ErrorCode.NOT_FOUND)
    return found


def _refuse_if_agents(session: Session, scope: object) -> None:
    """Refuse to deactivate a unit while people in it hold active agents."""
    holders = session.scalar(
        select(func.count()).select_from(Agent)
        .join(Employee, Employee.id == Agent.employee_id)
        .join(Department, Department.id == Employee.department_id)
        .where(is_active(Agent.status), scope)  # type: ignore[arg-type]
    ) or 0
    if holders:
        raise RuleViolation.single("active", ErrorCode.STRUCTURE_HAS_AGENTS, count=holders)
