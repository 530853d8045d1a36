"""Read-side queries of the organisation: branches, departments, staff and users, names to pick."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.models import (
    Agent,
    Branch,
    Department,
    Employee,
    User,
    is_active,
)
from workflow.names import by_name, name_contains, name_key
from workflow.paging import (
    Page,
    Position,
    SortKey,
    browse,
    number_key,
    text_key,
)


def list_branches(session: Session) -> Sequence[Branch]:
    """Active branches by name."""
    return by_name(session.scalars(select(Branch).where(Branch.active)).all(),
                   lambda branch: branch.name)


def organisation_structure(session: Session) -> Sequence[tuple[Branch, list[Department]]]:
    """Every branch with its departments, active or not, by name."""
    branches = by_name(session.scalars(select(Branch)).all(), lambda branch: branch.name)
    departments = by_name(session.scalars(select(Department)).all(), lambda d: d.name)
    return [(branch, [d for d in departments if d.branch_id == branch.id]) for branch in branches]


#: The order of people in lists: by given name, then family name; ties by id.
BY_EMPLOYEE_NAME: tuple[SortKey[Employee], ...] = (
    text_key(Employee.sort_name, lambda employee: employee.sort_name),
    number_key(Employee.id, lambda employee: employee.id),
)


def staff_page(session: Session, department_id: int | None, q: str | None,
               position: Position, per_page: int) -> Page[Employee]:
    """Employees (active or not) for administration, by name, with their department."""
    query = select(Employee)
    if department_id:
        query = query.where(Employee.department_id == department_id)
    if q and q.strip():
        query = query.where(or_(name_contains(Employee.search_name, q),
                                Employee.employee_code.ilike(f"%{q.strip()}%")))
    shown = query.options(joinedload(Employee.department).joinedload(Department.branch))
    return browse(session, shown, BY_EMPLOYEE_NAME, position, per_page, query,
                  query.with_only_columns(Employee.id))


def list_departments(session: Session, branch_id: int) -> Sequence[Department]:
    """Active departments of a branch by name."""
    if session.get(Branch, branch_id) is None:
        raise NotFound(ErrorCode.BRANCH_NOT_FOUND, branch_id=branch_id)
    return by_name(session.scalars(
        select(Department).where(Department.branch_id == branch_id, Department.active)
    ).all(), lambda department: department.name)


def list_employees(
    session: Session, department_id: int, q: str | None = None
) -> Sequence[tuple[Employee, Agent | None]]:
    """Active employees of a department with their active agent, if any, by given name.

    `q` narrows to names containing it, with or without diacritics, in any case.
    """
    if session.get(Department, department_id) is None:
        raise NotFound(ErrorCode.DEPARTMENT_NOT_FOUND, department_id=department_id)
    query = (
        select(Employee, Agent)
        .outerjoin(Agent, (Agent.employee_id == Employee.id) & is_active(Agent.status))
        .where(Employee.department_id == department_id, Employee.active)
        .order_by(Employee.sort_name, Employee.id)
    )
    if q and q.strip():
        query = query.where(name_contains(Employee.search_name, q))
    return [(row[0], row[1]) for row in session.execute(query)]


def list_users(session: Session, include_inactive: bool = False) -> Sequence[User]:
    """Users by given name: the active ones (people a ticket can notify), or everyone."""
    query = select(User).options(selectinload(User.branches))
    users = session.scalars(query if include_inactive else query.where(User.active)).all()
    return sorted(users, key=lambda user: name_key(user.full_name))


def get_user(session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=user_id)
    return user


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
