"""Admins' changes to calling functions: profiles, hotlines, assignments; audited, checked.

A change that would make an agent's existing forward (`phone` routing) illegal is refused
with the list of those agents, so forwarding can never get around a restriction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.calling.effective import Assignments, active_placements
from workflow.calling.sync import request_sync
from workflow.domain.calling_rules import (
    TARGET_COLUMN,
    AuditSubject,
    Level,
    forward_problems,
    is_assigned,
)
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict, NotFound, Problem, RuleViolation
from workflow.domain.numbers import CHOOSABLE, classify
from workflow.domain.routing import normalise_number
from workflow.domain.rules import MAX_EXTENSION_LENGTH, clean_extension, extension_problems
from workflow.models import Agent, Branch, Department, Employee, current_organisation, utcnow
from workflow.models.calling import (
    CallingAssignment,
    CallingChange,
    CallingProfile,
    Hotline,
    JobRole,
)
from workflow.permissions import require_admin

#: The longest call limit a profile may set (a day), in seconds.
MAX_CALL_SECONDS = 86_400
#: Agents named in a refusal (the count says how many more).
NAMED_AGENTS = 20

#: The column of `CallingAssignment` that holds each level's target.
_TARGET_MODEL: dict[Level, Any] = {Level.BRANCH: Branch, Level.DEPARTMENT: Department,
                                   Level.ROLE: JobRole, Level.AGENT: Agent}


@dataclass(frozen=True)
class ProfileInput:
    """A calling profile as an admin fills it in."""

    name: str
    outgoing: bool = False
    classes: tuple[str, ...] = ()
    hotline_ids: tuple[int, ...] = ()
    default_hotline_id: int | None = None
    max_internal_seconds: int | None = None
    max_outgoing_seconds: int | None = None
    after_hours: bool = False
    external_forwarding: bool = False


def save_profile(session: Session, actor_id: int, data: ProfileInput,
                 profile_id: int | None = None, version: int | None = None) -> CallingProfile:
    """Create a profile (no id) or change one at `version`; audited, forwards checked."""
    require_admin(session, actor_id)
    hotlines = _check_profile(session, data)
    row = _profile(session, profile_id) if profile_id else CallingProfile(version=0)
    if profile_id and version is not None and row.version != version:
        raise Conflict(ErrorCode.PROFILE_CHANGED, version=row.version)
    before = _profile_snapshot(row) if profile_id else None
    broken_before = broken_forwards(session) if profile_id else set()
    row.name, row.outgoing = data.name.strip(), data.outgoing
    row.number_classes = sorted(set(data.classes))
    row.hotlines = hotlines
    row.default_hotline_id = data.default_hotline_id
    row.max_internal_seconds, row.max_outgoing_seconds = (data.max_internal_seconds,
                                                          data.max_outgoing_seconds)
    row.after_hours, row.external_forwarding = data.after_hours, data.external_forwarding
    row.version, row.updated_at = row.version + 1, utcnow()
    session.add(row)
    _flush_unique(session, "name", ErrorCode.PROFILE_NAME_TAKEN)
    session.expire(row, ["default_hotline"])
    if profile_id:
        _refuse_new_breakage(session, broken_before)
    audit(session, actor_id, AuditSubject.PROFILE, row.id, before, _profile_snapshot(row))
    session.commit()
    return row


def assign_profile(session: Session, actor_id: int, level: Level, target_id: int | None,
                   profile_id: int | None) -> CallingAssignment | None:
    """Assign a profile at one level (None removes the assignment); forwards checked."""
    require_admin(session, actor_id)
    column = TARGET_COLUMN.get(level)
    if level is not Level.ORGANISATION and (column is None or target_id is None
                                            or session.get(_TARGET_MODEL[level], target_id)
                                            is None):
        raise NotFound(ErrorCode.ASSIGNMENT_TARGET_NOT_FOUND, level=level.value,
                       target_id=target_id)
    profile = _profile(session, profile_id) if profile_id else None
    query = select(CallingAssignment).where(CallingAssignment.level == level.value)
    if column is not None:
        query = query.where(getattr(CallingAssignment, column) == target_id)
    row = session.scalars(query).first()
    if row is None and profile is None:
        return None  # nothing assigned there, nothing to remove
    before = row.profile.name if row is not None else None
    # A new assignment had no level before it: the trail shows "— → level".
    level_before = level.value if row is not None else None
    broken_before = broken_forwards(session)
    if profile is None:
        if row is not None:
            session.delete(row)
        row = None
    else:
        if row is None:
            row = CallingAssignment(level=level.value)
            if column is not None:
                setattr(row, column, target_id)
            session.add(row)
        row.profile, row.updated_at = profile, utcnow()
    session.flush()
    _refuse_new_breakage(session, broken_before)
    audit(session, actor_id, AuditSubject.ASSIGNMENT, target_id,
           {"level": level_before, "profile": before},
           {"level": level.value, "profile": profile.name if profile else None},
           keep=("level",))
    session.commit()
    return row


def unassign_profile(session: Session, actor_id: int, level: Level, target_id: int | None
                     ) -> None:
    """Remove the profile assigned at one level; refused when none is assigned there."""
    require_admin(session, actor_id)
    if not is_assigned(Assignments(session).listed(), level, target_id):
        raise NotFound(ErrorCode.NOTHING_ASSIGNED, level=level.value, target_id=target_id)
    assign_profile(session, actor_id, level, target_id, None)


def save_hotline(session: Session, actor_id: int, number: str, label: str = "",
                 hotline_id: int | None = None, extension: str | None = None) -> Hotline:
    """Add a company number, or change one (E.164); `extension`: what a call to it rings."""
    require_admin(session, actor_id)
    e164 = normalise_number(number) if len(number) <= 30 else None
    problems: dict[str, list[Problem]] = {}
    if e164 is None:
        problems["number"] = [Problem(ErrorCode.PHONE_INVALID, {"number": number[:30]})]
    wanted = clean_extension(extension or "") or None
    if wanted is not None:
        policy = current_organisation(session).policy
        if found := extension_problems(policy, wanted[:MAX_EXTENSION_LENGTH + 1]):
            problems["extension"] = found
    if problems:
        raise RuleViolation(problems)
    row = session.get(Hotline, hotline_id) if hotline_id else Hotline()
    if row is None:
        raise NotFound(ErrorCode.HOTLINE_NOT_FOUND, hotline_id=hotline_id)
    before = ({"number": row.number, "label": row.label, "extension": row.extension}
              if hotline_id else None)
    assert e164 is not None  # refused above
    row.number, row.label, row.extension = e164, label.strip()[:100], wanted
    session.add(row)
    _flush_unique(session, "number", ErrorCode.HOTLINE_TAKEN)
    after: dict[str, Any] = {"number": e164, "label": row.label}
    if wanted is not None or (before or {}).get("extension") is not None:
        after["extension"] = wanted  # hotlines that ring nothing keep their trail as it was
    audit(session, actor_id, AuditSubject.HOTLINE, row.id, before, after)
    session.commit()
    return row


def save_job_role(session: Session, actor_id: int, name: str,
                  job_role_id: int | None = None) -> JobRole:
    """Add a job role (e.g. "Telesales"), or rename one."""
    require_admin(session, actor_id)
    if not name.strip() or len(name.strip()) > 100:
        raise RuleViolation.single("name", ErrorCode.NAME_REQUIRED)
    row = session.get(JobRole, job_role_id) if job_role_id else JobRole()
    if row is None:
        raise NotFound(ErrorCode.JOB_ROLE_NOT_FOUND, job_role_id=job_role_id)
    before = {"name": row.name} if job_role_id else None
    row.name = name.strip()
    session.add(row)
    _flush_unique(session, "name", ErrorCode.JOB_ROLE_TAKEN)
    audit(session, actor_id, AuditSubject.JOB_ROLE, row.id, before, {"name": row.name})
    session.commit()
    return row


def set_job_role(session: Session, actor_id: int, employee_id: int,
                 job_role_id: int | None) -> None:
    """Give an employee a job role (None: none); refused if it would outlaw their forward."""
    assign_job_role(session, actor_id, employee_id, job_role_id)
    session.commit()


def assign_job_role(session: Session, actor_id: int, employee_id: int,
                    job_role_id: int | None) -> None:
    """set_job_role inside the caller's transaction (it commits or rolls back)."""
    require_admin(session, actor_id)
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound(ErrorCode.EMPLOYEE_UNKNOWN, employee_id=employee_id)
    if job_role_id is not None and session.get(JobRole, job_role_id) is None:
        raise RuleViolation.single("job_role_id", ErrorCode.JOB_ROLE_NOT_FOUND)
    before = employee.job_role_id
    broken_before = broken_forwards(session)
    employee.job_role_id = job_role_id
    _refuse_new_breakage(session, broken_before)
    audit(session, actor_id, AuditSubject.EMPLOYEE_ROLE, employee_id, {"job_role_id": before},
          {"job_role_id": job_role_id})


def broken_forwards(session: Session) -> set[tuple[int, str]]:
    """(id, extension) of active agents whose forward their effective profile forbids."""
    index = Assignments(session)
    policy = current_organisation(session).policy
    broken = set()
    for placement, agent in active_placements(session, forwarding_only=True):
        numbers = [classify(each, policy) for each in (agent.priority_number,
                                                       agent.backup_number) if each]
        classes = [each.number_class for each in numbers if each is not None]
        if forward_problems(index.effective(placement).rules, classes):
            broken.add((agent.id, agent.extension))
    return broken


def _refuse_new_breakage(session: Session, before: set[tuple[int, str]]) -> None:
    """Roll back and refuse when the pending change makes more forwards illegal."""
    session.flush()
    newly = sorted(broken_forwards(session) - before, key=lambda each: each[1])
    if newly:
        session.rollback()
        raise RuleViolation.single(
            "profile", ErrorCode.FORWARDS_WOULD_BREAK, count=len(newly),
            extensions=[extension for _, extension in newly[:NAMED_AGENTS]])


def _check_profile(session: Session, data: ProfileInput) -> list[Hotline]:
    """The profile's hotlines, or every problem of the input."""
    problems: dict[str, list[Problem]] = {}
    if not data.name.strip() or len(data.name.strip()) > 100:
        problems["name"] = [Problem(ErrorCode.NAME_REQUIRED)]
    unknown = set(data.classes) - {each.value for each in CHOOSABLE}
    if unknown:
        problems["classes"] = [Problem(ErrorCode.CLASS_UNKNOWN, {"classes": sorted(unknown)})]
    for name in ("max_internal_seconds", "max_outgoing_seconds"):
        value = getattr(data, name)
        if value is not None and not 1 <= value <= MAX_CALL_SECONDS:
            problems[name] = [Problem(ErrorCode.SECONDS_RANGE, {"max": MAX_CALL_SECONDS})]
    hotlines = list(session.scalars(select(Hotline).where(Hotline.id.in_(data.hotline_ids))))
    if len(hotlines) != len(set(data.hotline_ids)):
        problems["hotline_ids"] = [Problem(ErrorCode.HOTLINE_NOT_FOUND)]
    if data.default_hotline_id is not None and data.default_hotline_id not in data.hotline_ids:
        problems["default_hotline_id"] = [Problem(ErrorCode.DEFAULT_HOTLINE_NOT_LISTED)]
    if problems:
        raise RuleViolation(problems)
    return hotlines


def _profile(session: Session, profile_id: int) -> CallingProfile:
    """The profile with this id, or NotFound."""
    row = session.get(CallingProfile, profile_id)
    if row is None:
        raise NotFound(ErrorCode.PROFILE_NOT_FOUND, profile_id=profile_id)
    return row


def _profile_snapshot(row: CallingProfile) -> dict[str, Any]:
    """A profile's settings as the audit trail records them."""
    return {"name": row.name, "outgoing": row.outgoing, "classes": list(row.number_classes),
            "hotlines": sorted(hotline.number for hotline in row.hotlines),
            "default_hotline_id": row.default_hotline_id,
            "max_internal_seconds": row.max_internal_seconds,
            "max_outgoing_seconds": row.max_outgoing_seconds,
            "after_hours": row.after_hours, "external_forwarding": row.external_forwarding}


def audit(session: Session, actor_id: int | None, subject: AuditSubject, subject_id: int | None,
           before: dict[str, Any] | None, after: dict[str, Any],
           keep: tuple[str, ...] = ()) -> None:
    """Record each changed field (and those in `keep`) as [old, new]; ask for a sync."""
    old = before or {}
    changes = {name: [old.get(name), value] for name, value in after.items()
               if old.get(name) != value or before is None or name in keep}
    change = CallingChange(actor_id=actor_id, subject=subject, subject_id=subject_id,
                           changes=changes, created_at=utcnow())
    session.add(change)
    session.flush()
    # Every change may alter what some agent's phone must enforce: the workers re-apply.
    request_sync(session, change.id)


def _flush_unique(session: Session, field_name: str, code: ErrorCode) -> None:
    """Flush, turning a duplicate into a field-level problem."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise RuleViolation.single(field_name, code) from None
