"""The organisation's working week and public holidays, as admins set them (audited)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from itertools import pairwise

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflow.calling.admin import audit
from workflow.domain.calling_rules import AuditSubject
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound, Problem, RuleViolation
from workflow.models.calling import PublicHoliday, WorkingPeriod
from workflow.permissions import require_admin

#: Days of the week as the audit trail and the pages show them (0 = Monday).
WEEKDAYS = range(7)


def set_working_week(session: Session, actor_id: int,
                     periods: Sequence[tuple[int, time, time]]) -> None:
    """Replace the working week with `periods` (weekday, start, end), local time."""
    require_admin(session, actor_id)
    problems = [Problem(ErrorCode.PERIOD_INVALID, {"weekday": weekday})
                for weekday, starts, ends in periods
                if weekday not in WEEKDAYS or not starts < ends]
    ordered = sorted(periods)
    for (day, _, ends), (next_day, next_starts, _) in pairwise(ordered):
        if day == next_day and next_starts < ends:
            problems.append(Problem(ErrorCode.PERIODS_OVERLAP, {"weekday": day}))
    if problems:
        raise RuleViolation({"periods": problems})
    before = _week(session)
    session.execute(delete(WorkingPeriod))
    session.add_all(WorkingPeriod(weekday=day, starts=starts, ends=ends)
                    for day, starts, ends in ordered)
    session.flush()
    audit(session, actor_id, AuditSubject.WORKING_WEEK, None, {"periods": before},
          {"periods": _week(session)})
    session.commit()


def add_holiday(session: Session, actor_id: int, day: date, name: str) -> PublicHoliday:
    """Add a public holiday (one date; Tết moves, so each year's days are entered)."""
    require_admin(session, actor_id)
    if session.scalar(select(PublicHoliday.id).where(PublicHoliday.day == day)) is not None:
        raise RuleViolation.single("day", ErrorCode.HOLIDAY_TAKEN, day=day.strftime("%d/%m/%Y"))
    holiday = PublicHoliday(day=day, name=name.strip()[:100])
    session.add(holiday)
    session.flush()
    audit(session, actor_id, AuditSubject.HOLIDAY, holiday.id, None,
          {"day": day.isoformat(), "name": holiday.name})
    session.commit()
    return holiday


def remove_holiday(session: Session, actor_id: int, holiday_id: int) -> None:
    """Remove a public holiday."""
    require_admin(session, actor_id)
    holiday = session.get(PublicHoliday, holiday_id)
    if holiday is None:
        raise NotFound(ErrorCode.HOLIDAY_NOT_FOUND, holiday_id=holiday_id)
    audit(session, actor_id, AuditSubject.HOLIDAY, holiday.id,
          {"day": holiday.day.isoformat(), "name": holiday.name}, {"day": None, "name": None})
    session.delete(holiday)
    session.commit()


def _week(session: Session) -> list[str]:
    """The working week as audit text: "0 08:00-12:00"."""
    return [f"{row.weekday} {row.starts:%H:%M}-{row.ends:%H:%M}" for row in session.scalars(
        select(WorkingPeriod).order_by(WorkingPeriod.weekday, WorkingPeriod.starts))]
