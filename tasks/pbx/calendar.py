"""The organisation's working time as Kamailio time recurrences (tmrec), in UTC.

Kamailio matches them with its own tmrec module; agentdesk only turns the local working week
and holidays into recurrences. Kamailio 5.6 reads a recurrence in its process's time zone
and cannot be told another, so it runs with TZ=UTC and the rows are written in UTC. A window
ends within its own day there, so one that crosses midnight UTC becomes two rows. (A zone
with summer time would shift by an hour twice a year; Vietnam has none.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflow.domain.calling_rules import WorkingHours

#: A Monday: weekly recurrences start in its week.
_ANCHOR = date(2026, 1, 5)


def calendar_rows(hours: WorkingHours) -> list[tuple[str, str]]:
    """(kind, recurrence) rows: `work` for each weekly period, `holiday` for each day off."""
    zone = ZoneInfo(hours.timezone)
    rows = []
    for weekday, starts, ends in sorted(hours.periods):
        day = _ANCHOR + timedelta(days=weekday)
        rows += [("work", _recurrence(start, end) + "|weekly") for start, end in _within_days(
            datetime.combine(day, starts, zone), datetime.combine(day, ends, zone))]
    for holiday in sorted(hours.holidays):
        rows += [("holiday", _recurrence(start, end)) for start, end in _within_days(
            datetime.combine(holiday, datetime.min.time(), zone),
            datetime.combine(holiday + timedelta(days=1), datetime.min.time(), zone))]
    return rows


def _within_days(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) in UTC, cut at each UTC midnight."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    while start < end:
        midnight = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), UTC)
        yield start, min(end, midnight)
        start = midnight


def _recurrence(start: datetime, end: datetime) -> str:
    """tmrec's "<start>|<duration>" in the form 5.6 reads (local time, RFC 2445 duration)."""
    return f"{start:%Y%m%dT%H%M%S}|PT{int((end - start).total_seconds())}S"
