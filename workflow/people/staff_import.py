"""Importing employees from a spreadsheet: check every row first, then write all or nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calling.sync import request_sync
from workflow.domain import text
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Problem, RuleViolation
from workflow.models import Branch, Department, Employee
from workflow.permissions import require_admin
from workflow.tickets.relocation import follow_employees

#: Longest values the employee table keeps.
MAX_NAME, MAX_CODE = 200, 40


class RowAction(StrEnum):
    """What importing a row will do."""

    CREATE = "create"
    UPDATE = "update"
    REFUSE = "refuse"


@dataclass
class PlannedRow:
    """One spreadsheet row, checked: what it will do, or why it cannot."""

    line: int
    branch: str
    department: str
    full_name: str
    employee_code: str
    email: str
    action: RowAction = RowAction.CREATE
    branch_id: int | None = None
    new_department: bool = False
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class ImportPlan:
    """Every row of an import with its outcome; it may be applied only when none is refused."""

    rows: Sequence[PlannedRow]

    @property
    def refused(self) -> int:
        """How many rows cannot be imported."""
        return sum(row.action is RowAction.REFUSE for row in self.rows)


def plan_import(session: Session, rows: Sequence[Mapping[str, str]]) -> ImportPlan:
    """Check every row (branch known, name given, email and code sane, codes unique)."""
    branches = {name.casefold(): branch_id for branch_id, name in session.execute(
        select(Branch.id, Branch.name).where(Branch.active))}
    departments = {(branch_id, name.casefold()) for branch_id, name in session.execute(
        select(Department.branch_id, Department.name).where(Department.active))}
    known_codes = set(session.scalars(select(Employee.employee_code).where(
        Employee.employee_code.is_not(None))))
    seen_codes: set[str] = set()
    planned = []
    for line, raw in enumerate(rows, start=2):  # line 1 is the header
        def cell(key: str, raw: Mapping[str, str] = raw) -> str:
            return str(raw.get(key) or "").strip()

        row = PlannedRow(line, cell("branch"), cell("department"), cell("full_name"),
                         cell("employee_code"), cell("email"))
        row.problems = _text_problems(row)
        branch_id = row.branch_id = branches.get(row.branch.casefold())
        if branch_id is None:
            row.problems.append(Problem(ErrorCode.IMPORT_BRANCH_UNKNOWN, {"branch": row.branch}))
        elif not row.department:
            row.problems.append(Problem(ErrorCode.IMPORT_DEPARTMENT_REQUIRED))
        else:
            row.new_department = (branch_id, row.department.casefold()) not in departments
        if row.employee_code and row.employee_code.casefold() in seen_codes:
            repeated = Problem(ErrorCode.IMPORT_CODE_REPEATED, {"code": row.employee_code})
            row.problems.append(repeated)
        seen_codes.add(row.employee_code.casefold())
        if row.problems:
            row.action = RowAction.REFUSE
        elif row.employee_code in known_codes:
            row.action = RowAction.UPDATE
        planned.append(row)
    return ImportPlan(planned)


def _text_problems(row: PlannedRow) -> list[Problem]:
    """The row's text problems, each naming its column; a valid email is kept normalised."""
    checks = (
        ("full_name", text.one_line_problem(row.full_name, MAX_NAME)),
        ("department", text.one_line_problem(row.department, MAX_NAME, required=False)),
        ("employee_code", text.one_line_problem(row.employee_code, MAX_CODE, required=False)),
        ("email", text.email_problem(row.email)),
    )
    problems = [text.for_field(problem, field) for field, problem in checks if problem]
    if not any(field == "email" for field, problem in checks if problem):
        row.email = text.email_address(row.email) or ""
    return problems


def apply_import(session: Session, rows: Sequence[Mapping[str, str]],
                 actor_id: int | None) -> ImportPlan:
    """Check the rows again and write them all in one transaction, or refuse them all (admins;
    None: the system, e.g. an import run at the server)."""
    require_admin(session, actor_id)
    plan = plan_import(session, rows)
    if plan.refused or not plan.rows:
        raise RuleViolation.single("file", ErrorCode.IMPORT_HAS_ERRORS, count=plan.refused)
    departments = {(department.branch_id, department.name.casefold()): department
                   for department in session.scalars(select(Department).where(Department.active))}
    moved = False
    for row in plan.rows:
        assert row.branch_id is not None  # checked by plan_import
        key = (row.branch_id, row.department.casefold())
        if key not in departments:
            departments[key] = Department(branch_id=row.branch_id, name=row.department)
            session.add(departments[key])
        department = departments[key]
        employee = session.scalar(select(Employee).where(
            Employee.employee_code == row.employee_code)) if row.employee_code else None
        if employee is None:
            employee = Employee(employee_code=row.employee_code or None)
            session.add(employee)
        moved |= employee.id is not None and employee.department is not department
        employee.full_name = row.full_name
        employee.department = department
        employee.email = row.email or None
        employee.active = True
    if moved:
        request_sync(session, None)  # moved staff may fall under other calling profiles
        follow_employees(session, actor_id)  # and under other branches' approvers
    session.commit()
    return plan
