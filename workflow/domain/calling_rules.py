"""Calling profiles as the rules see them, which one applies, and what it allows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Problem
from workflow.domain.numbers import NumberClass


class AuditSubject(StrEnum):
    """What a row of the calling audit trail is about."""

    PROFILE = "profile"
    ASSIGNMENT = "assignment"
    HOTLINE = "hotline"
    JOB_ROLE = "job_role"
    EMPLOYEE_ROLE = "employee_role"
    WORKING_WEEK = "working_week"
    HOLIDAY = "holiday"
    TRUNK = "trunk"


class Level(StrEnum):
    """Where a profile is assigned."""

    ORGANISATION = "organisation"
    BRANCH = "branch"
    DEPARTMENT = "department"
    ROLE = "role"
    AGENT = "agent"


#: The id naming an assignment's target at each level, by its attribute name on assignments
#: and placements alike (the organisation needs none).
TARGET_COLUMN: dict[Level, str] = {Level.BRANCH: "branch_id", Level.DEPARTMENT: "department_id",
                                   Level.ROLE: "job_role_id", Level.AGENT: "agent_id"}


def target_at(level: Level, holder: object) -> int | None:
    """The id `holder` (an assignment or a placement) has at `level`; None for the organisation."""
    column = TARGET_COLUMN.get(level)
    return None if column is None else getattr(holder, column)


#: The documented rule: the most specific assignment wins, in this order. A role says what
#: the person does, which decides their calling needs more closely than where they sit.
PRECEDENCE = (Level.AGENT, Level.ROLE, Level.DEPARTMENT, Level.BRANCH, Level.ORGANISATION)


@dataclass(frozen=True)
class CallingRules:
    """What a calling profile allows."""

    outgoing: bool = False
    classes: frozenset[NumberClass] = frozenset({NumberClass.INTERNAL})
    #: Company numbers (E.164) the agent may present when calling out.
    caller_ids: tuple[str, ...] = ()
    default_caller_id: str | None = None
    max_internal_seconds: int | None = None
    max_outgoing_seconds: int | None = None
    after_hours: bool = False
    external_forwarding: bool = False


    @property
    def calls_out(self) -> bool:
        """Whether a call out can go at all: allowed, and with a company number to present
        (without one every call out is refused, see `call_verdict`)."""
        return self.outgoing and bool(self.caller_ids)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (sorted), for storing and comparing."""
        return {"outgoing": self.outgoing, "classes": sorted(each.value for each in self.classes),
                "caller_ids": sorted(self.caller_ids), "default_caller_id": self.default_caller_id,
                "max_internal_seconds": self.max_internal_seconds,
                "max_outgoing_seconds": self.max_outgoing_seconds,
                "after_hours": self.after_hours,
                "external_forwarding": self.external_forwarding}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CallingRules:
        """The rules `as_dict` stored."""
        return cls(outgoing=values["outgoing"],
                   classes=frozenset(NumberClass(each) for each in values["classes"]),
                   caller_ids=tuple(values["caller_ids"]),
                   default_caller_id=values["default_caller_id"],
                   max_internal_seconds=values["max_internal_seconds"],
                   max_outgoing_seconds=values["max_outgoing_seconds"],
                   after_hours=values["after_hours"],
                   external_forwarding=values["external_forwarding"])


#: What applies when no profile is assigned at any level: internal calls only.
NO_PROFILE = CallingRules()


@dataclass(frozen=True)
class Profile:
    """A named calling profile."""

    id: int
    name: str
    rules: CallingRules


@dataclass(frozen=True)
class Assigned:
    """A profile assigned at one level, to a target people can name."""

    level: Level
    target: str
    profile: Profile


@dataclass(frozen=True)
class Effective:
    """The rules that apply to an agent and the assignment they come from (None: no profile)."""

    rules: CallingRules
    source: Assigned | None


def resolve(candidates: Mapping[Level, Assigned]) -> Effective:
    """The effective profile among the assignments that concern one agent."""
    for level in PRECEDENCE:
        if level in candidates:
            return Effective(candidates[level].profile.rules, candidates[level])
    return Effective(NO_PROFILE, None)


def is_assigned(listed: Iterable[tuple[int | None, Assigned]], level: Level,
                target_id: int | None) -> bool:
    """Whether a profile is assigned at `level` to `target_id` among the listed assignments
    (each with its target's id); the organisation has one target whatever the id says."""
    return any(assigned.level is level and (level is Level.ORGANISATION or target == target_id)
               for target, assigned in listed)


@dataclass(frozen=True)
class WorkingHours:
    """When the organisation works: weekly periods and public holidays, in its time zone."""

    #: (weekday 0 = Monday, start, end) periods.
    periods: tuple[tuple[int, time, time], ...] = ()
    holidays: frozenset[date] = field(default_factory=frozenset)
    timezone: str = "Asia/Ho_Chi_Minh"

    def covers(self, moment: datetime) -> bool:
        """Whether `moment` falls in working hours (never on a public holiday)."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        clock = local.time()
        return any(weekday == local.weekday() and start <= clock < end
                   for weekday, start, end in self.periods)


@dataclass(frozen=True)
class Verdict:
    """Whether a call may go out now, as whom, for how long, and why not when refused."""

    allowed: bool
    reason: str
    caller_id: str | None = None
    max_seconds: int | None = None


def call_verdict(rules: CallingRules, number_class: NumberClass, moment: datetime,
                 hours: WorkingHours, caller_id: str | None = None) -> Verdict:
    """What the rules say about one call of `number_class` at `moment`."""
    if number_class is NumberClass.EMERGENCY:
        return Verdict(True, "emergency", rules.default_caller_id)
    if number_class is NumberClass.INTERNAL:
        if NumberClass.INTERNAL not in rules.classes:
            return Verdict(False, "class_not_allowed")
        return Verdict(True, "allowed", None, rules.max_internal_seconds)
    if not rules.outgoing:
        return Verdict(False, "outgoing_off")
    if number_class not in rules.classes:
        return Verdict(False, "class_not_allowed")
    if not rules.after_hours and not hours.covers(moment):
        return Verdict(False, "outside_working_hours")
    presented = caller_id or rules.default_caller_id
    if presented is None:
        return Verdict(False, "no_caller_id")
    if presented not in rules.caller_ids:
        return Verdict(False, "caller_id_not_allowed")
    return Verdict(True, "allowed", presented, rules.max_outgoing_seconds)


def forward_problems(rules: CallingRules, classes: Iterable[NumberClass]) -> list[Problem]:
    """Why `phone` routing to numbers of these classes would get around the rules."""
    if not rules.external_forwarding:
        return [Problem(ErrorCode.FORWARDING_NOT_ALLOWED)]
    refused = sorted({each.value for each in classes
                      if not rules.outgoing or each not in rules.classes})
    return [Problem(ErrorCode.FORWARD_CLASS_NOT_ALLOWED, {"classes": refused})] if refused else []
