"""Which calling profile applies to whom: every assignment loaded once, resolved in memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflow.domain.calling_rules import (
    PRECEDENCE,
    Assigned,
    CallingRules,
    Effective,
    Level,
    Profile,
    WorkingHours,
    resolve,
    target_at,
)
from workflow.domain.numbers import NumberClass
from workflow.domain.routing import RoutingType
from workflow.models import Agent, Branch, Department, Employee, is_active, table
from workflow.models.calling import (
    CallingAssignment,
    CallingProfile,
    Hotline,
    JobRole,
    PublicHoliday,
    WorkingPeriod,
    profile_hotline,
)
from workflow.names import sort_key


def profile_of(row: Any, caller_ids: tuple[str, ...]) -> Profile:
    """The rules' view of a row of `_ASSIGNED`, whose profile offers `caller_ids`."""
    return Profile(row.profile_id, row.name, CallingRules(
        outgoing=row.outgoing,
        classes=frozenset(NumberClass(each) for each in row.number_classes),
        caller_ids=caller_ids,
        default_caller_id=row.default_caller_id,
        max_internal_seconds=row.max_internal_seconds,
        max_outgoing_seconds=row.max_outgoing_seconds,
        after_hours=row.after_hours,
        external_forwarding=row.external_forwarding,
    ))


_assignments, _profiles, _hotlines = (
    table(CallingAssignment).c, table(CallingProfile).c, table(Hotline).c
)
#: Core, not ORM: every provisioning message reads them (two statements; the eager loads
#: of the ORM took four, and three times the CPU).
_ASSIGNED = (
    select(_assignments.level, _assignments.branch_id, _assignments.department_id,
           _assignments.job_role_id, _assignments.agent_id,
           _profiles.id.label("profile_id"), _profiles.name, _profiles.outgoing,
           _profiles.number_classes, _profiles.max_internal_seconds,
           _profiles.max_outgoing_seconds, _profiles.after_hours,
           _profiles.external_forwarding, _hotlines.number.label("default_caller_id"))
    .join_from(table(CallingAssignment), table(CallingProfile),
               _profiles.id == _assignments.profile_id)
    .outerjoin(table(Hotline), _hotlines.id == _profiles.default_hotline_id)
)
_CALLER_IDS = (
    select(profile_hotline.c.profile_id, _hotlines.number)
    .join_from(profile_hotline, table(Hotline), _hotlines.id == profile_hotline.c.hotline_id)
    .order_by(_hotlines.number)
)


@dataclass(frozen=True)
class Placement:
    """Where an agent (or an employee about to become one) sits, as assignments target it."""

    employee_id: int
    branch_id: int
    department_id: int
    job_role_id: int | None = None
    agent_id: int | None = None


class Assignments:
    """Every assignment of the organisation, ready to resolve any number of agents."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(_ASSIGNED).all()
        caller_ids: dict[int, list[str]] = {}
        if rows:
            for profile_id, number in session.execute(_CALLER_IDS):
                caller_ids.setdefault(profile_id, []).append(number)
        self._by_target: dict[tuple[Level, int | None], Assigned] = {}
        names = _target_names(session, rows)
        for row in rows:
            level = Level(row.level)
            target = _target_id(row)
            self._by_target[(level, target)] = Assigned(
                level, names.get((level, target), ""),
                profile_of(row, tuple(caller_ids.get(row.profile_id, ()))))

    def listed(self) -> list[tuple[int | None, Assigned]]:
        """Every assignment with its target's id, most general first."""
        order = {level: rank for rank, level in enumerate(reversed(PRECEDENCE))}
        return sorted(((target, assigned) for (_, target), assigned in self._by_target.items()),
                      key=lambda each: (order[each[1].level], sort_key(each[1].target)))

    def effective(self, placement: Placement) -> Effective:
        """The profile that applies at `placement`, and where it comes from."""
        wanted = {level: target_at(level, placement) for level in Level}
        found = {level: self._by_target[(level, target)] for level, target in wanted.items()
                 if (target is not None or level is Level.ORGANISATION)
                 and (level, target) in self._by_target}
        return resolve(found)


_employees, _departments, _agents = table(Employee).c, table(Department).c, table(Agent).c
#: Core, not ORM: workers read placements for every batch they provision.
_PLACEMENTS = (
    select(_employees.id, _departments.branch_id, _employees.department_id,
           _employees.job_role_id, _agents.id.label("agent_id"))
    .join_from(table(Employee), table(Department), _departments.id == _employees.department_id)
    .outerjoin(table(Agent), (_agents.employee_id == _employees.id) & is_active(_agents.status))
)
_PLACEMENT = _PLACEMENTS.where(_employees.id == bindparam("employee_id"))
_PLACEMENTS_OF = _PLACEMENTS.where(_employees.id.in_(bindparam("employee_ids", expanding=True)))


def placement_of_employee(session: Session, employee_id: int) -> Placement:
    """Where an employee sits, with their active agent if they have one."""
    return Placement(*session.execute(_PLACEMENT, {"employee_id": employee_id}).one())


def placements_of_employees(session: Session, employee_ids: Iterable[int]
                            ) -> dict[int, Placement]:
    """Where each of these employees sits, by employee id (one query)."""
    rows = session.execute(_PLACEMENTS_OF, {"employee_ids": list(employee_ids)})
    return {row[0]: Placement(*row) for row in rows}


def active_placements(session: Session, forwarding_only: bool = False
                      ) -> Iterator[tuple[Placement, Agent]]:
    """Every active agent (or those forwarding to a phone) with where it sits, streamed."""
    query = (
        select(Agent, Department.branch_id, Employee.department_id, Employee.job_role_id)
        .join(Employee, Employee.id == Agent.employee_id)
        .join(Department, Department.id == Employee.department_id)
        .where(is_active(Agent.status))
    )
    if forwarding_only:
        query = query.where(Agent.routing_type == RoutingType.PHONE.value)
    rows = session.execute(query.execution_options(yield_per=1000))
    for agent, branch_id, department_id, job_role_id in rows:
        yield Placement(agent.employee_id, branch_id, department_id, job_role_id,
                        agent.id), agent


def working_hours(session: Session, timezone: str) -> WorkingHours:
    """The organisation's working week and public holidays."""
    periods = tuple((row.weekday, row.starts, row.ends)
                    for row in session.scalars(select(WorkingPeriod)))
    holidays = frozenset(session.scalars(select(PublicHoliday.day)))
    return WorkingHours(periods, holidays, timezone)


def _target_id(row: Any) -> int | None:
    """The id of what an assignment targets (None for the organisation)."""
    return target_at(Level(row.level), row)


def _target_names(session: Session, rows: Sequence[Any]
                  ) -> dict[tuple[Level, int | None], str]:
    """Names people know the targets by: branch, department, role, agent's extension."""
    names: dict[tuple[Level, int | None], str] = {}
    wanted: dict[Level, set[int]] = {}
    for row in rows:
        target = _target_id(row)
        if target is not None:
            wanted.setdefault(Level(row.level), set()).add(target)
    queries = {
        Level.BRANCH: select(Branch.id, Branch.name),
        Level.DEPARTMENT: select(Department.id, Department.name),
        Level.ROLE: select(JobRole.id, JobRole.name),
        Level.AGENT: select(Agent.id, Agent.extension),
    }
    for level, ids in wanted.items():
        column = queries[level].selected_columns[0]
        for target, name in session.execute(queries[level].where(column.in_(ids))):
            names[(level, target)] = name
    return names
