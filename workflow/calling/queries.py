"""The calling read model: what the calling pages and API show, as plain values where it can."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from workflow.calling.effective import Assignments, placement_of_employee
from workflow.calling.listing import profiles_by_name
from workflow.domain.calling_rules import Assigned, Effective
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.models import Agent, Employee, User, is_active
from workflow.models.calling import (
    CallingChange,
    CallingProfile,
    Hotline,
    JobRole,
    PublicHoliday,
    WorkingPeriod,
)


@dataclass(frozen=True)
class AgentLink:
    """An active agent a page links to: its id, extension and holder's name."""

    id: int
    extension: str
    full_name: str


@dataclass(frozen=True)
class Holiday:
    """A public holiday as the working-time page lists it."""

    id: int
    day: date
    name: str


@dataclass(frozen=True)
class Change:
    """One row of the calling audit trail: who changed what, when, old → new."""

    created_at: datetime
    actor_id: int | None
    subject: str
    subject_id: int | None
    #: Each changed setting's [old, new] values.
    changes: dict[str, Any]


#: What each kind of id in the audit trail is named by (id column, name column).
NAMED_BY: dict[str, tuple[Any, Any]] = {
    "user": (User.id, User.full_name),
    "profile": (CallingProfile.id, CallingProfile.name),
    "hotline": (Hotline.id, Hotline.number),
    "job_role": (JobRole.id, JobRole.name),
    "employee_role": (Employee.id, Employee.full_name),
}
#: Changed settings whose values are ids of another kind.
ID_SETTINGS = {"job_role_id": "job_role", "default_hotline_id": "hotline"}


def listed_assignments(session: Session) -> list[tuple[int | None, Assigned]]:
    """Every assignment with its target's id, most general first (see `Assignments.listed`)."""
    return Assignments(session).listed()


def calling_of_employee(session: Session, employee_id: int) -> Effective:
    """The calling rules that apply to an employee's agent, and the assignment they come from."""
    return Assignments(session).effective(placement_of_employee(session, employee_id))


def hotlines_by_number(session: Session) -> list[Hotline]:
    """Every company number, by number."""
    return list(session.scalars(select(Hotline).order_by(Hotline.number)))


def hotline_labels(session: Session) -> dict[str, str]:
    """Each hotline's label by its number, to name caller IDs."""
    return {number: label for number, label in session.execute(
        select(Hotline.number, Hotline.label))}


def get_hotline(session: Session, hotline_id: int) -> Hotline:
    """One hotline (NotFound when there is none)."""
    found = session.get(Hotline, hotline_id)
    if found is None:
        raise NotFound(ErrorCode.HOTLINE_NOT_FOUND, hotline_id=hotline_id)
    return found


def get_profile(session: Session, profile_id: int) -> CallingProfile:
    """One calling profile (NotFound when there is none)."""
    found = session.get(CallingProfile, profile_id)
    if found is None:
        raise NotFound(ErrorCode.PROFILE_NOT_FOUND, profile_id=profile_id)
    return found


def get_job_role(session: Session, job_role_id: int) -> JobRole:
    """One job role (NotFound when there is none)."""
    found = session.get(JobRole, job_role_id)
    if found is None:
        raise NotFound(ErrorCode.JOB_ROLE_NOT_FOUND, job_role_id=job_role_id)
    return found


def profiles_with_hotlines(session: Session) -> list[CallingProfile]:
    """Every calling profile by name, its hotlines and default hotline loaded with it."""
    return profiles_by_name(session, selectinload(CallingProfile.hotlines),
                            selectinload(CallingProfile.default_hotline))


def profiles_by_hotline(session: Session) -> dict[int, list[str]]:
    """The names of the profiles that may present each hotline (by hotline id), in name order;
    a hotline no profile presents gets an empty list."""
    used_by: dict[int, list[str]] = defaultdict(list)
    for profile in profiles_by_name(session, selectinload(CallingProfile.hotlines)):
        for line in profile.hotlines:
            used_by[line.id].append(profile.name)
    return used_by


def employees_per_job_role(session: Session) -> dict[int, int]:
    """How many active employees hold each job role (roles nobody holds are absent)."""
    return {role_id: count for role_id, count in session.execute(
        select(Employee.job_role_id, func.count())
        .where(Employee.job_role_id.is_not(None), Employee.active)
        .group_by(Employee.job_role_id)) if role_id is not None}


def active_agent_id(session: Session, extension: str) -> int | None:
    """The id of the active agent with this extension, if any."""
    return session.scalar(select(Agent.id).where(Agent.extension == extension,
                                                 is_active(Agent.status)))


def active_sip_username(session: Session, extension: str) -> str | None:
    """The SIP user name of the active agent with this extension, if any."""
    return session.scalar(select(Agent.sip_username).where(Agent.extension == extension,
                                                           is_active(Agent.status)))


def active_agents_with(session: Session, extensions: Iterable[str]) -> list[AgentLink]:
    """The active agents with these extensions, by extension (none asked: none found)."""
    wanted = sorted(set(extensions))
    if not wanted:
        return []
    rows = session.scalars(select(Agent).options(selectinload(Agent.employee)).where(
        Agent.extension.in_(wanted), is_active(Agent.status)).order_by(Agent.extension))
    return [AgentLink(row.id, row.extension, row.employee.full_name) for row in rows]


def working_periods(session: Session) -> list[tuple[int, time, time]]:
    """The working week's periods (weekday 0 = Monday, start, end), by day then start."""
    return [(row.weekday, row.starts, row.ends) for row in session.scalars(
        select(WorkingPeriod).order_by(WorkingPeriod.weekday, WorkingPeriod.starts))]


def public_holidays(session: Session) -> list[Holiday]:
    """Every public holiday, earliest first."""
    return [Holiday(row.id, row.day, row.name) for row in session.scalars(
        select(PublicHoliday).order_by(PublicHoliday.day))]


def latest_changes(session: Session, limit: int) -> list[Change]:
    """The newest `limit` rows of the calling audit trail, newest first."""
    rows = session.scalars(select(CallingChange).order_by(
        CallingChange.created_at.desc(), CallingChange.id.desc()).limit(limit))
    return [Change(row.created_at, row.actor_id, row.subject, row.subject_id, dict(row.changes))
            for row in rows]


def names_in_changes(session: Session, changes: Sequence[Change]) -> dict[str, dict[int, str]]:
    """The names of the people, profiles, hotlines, roles and employees the rows mention, by
    kind then id (what no longer exists is absent)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for change in changes:
        if change.actor_id:
            wanted["user"].add(change.actor_id)
        if change.subject_id is not None:
            wanted[change.subject].add(change.subject_id)
        for name, values in change.changes.items():
            kind = ID_SETTINGS.get(name)
            if kind and isinstance(values, list):
                wanted[kind].update(each for each in values if isinstance(each, int))
    return {kind: {row[0]: row[1] for row in session.execute(
                select(key, label).where(key.in_(wanted[kind])))}
            for kind, (key, label) in NAMED_BY.items() if wanted[kind]}
