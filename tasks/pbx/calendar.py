"""The organisation's working time as Kamailio time recurrences (tmrec), in UTC.

Kamailio matches them with its own tmrec module; agentdesk only turns the local working week
and holidays into recurrences, converting to UTC so the switchboard's clock zone does not
matter. (A zone with summer time would shift by an hour twice a year; Vietnam has none.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflow.calling.rules import WorkingHours

#: A Monday: weekly recurrences start in its week.
_ANCHOR = date(2026, 1, 5)
#: How tmrec writes a UTC start (the trailing Z).
_UTC = "%Y%m%dT%H%M%SZ"


def calendar_rows(hours: WorkingHours) -> list[tuple[str, str]]:
    """(kind, recurrence) rows: `work` for each weekly period, `holiday` for each day off."""
    zone = ZoneInfo(hours.timezone)
    rows = []
    for weekday, starts, ends in sorted(hours.periods):
        day = _ANCHOR + timedelta(days=weekday)
        start = datetime.combine(day, starts, zone)
        seconds = int((datetime.combine(day, ends, zone) - start).total_seconds())
        rows.append(("work", f"{start.astimezone(UTC):{_UTC}}|{seconds}|weekly"))
    for holiday in sorted(hours.holidays):
        start = datetime.combine(holiday, datetime.min.time(), zone)
        seconds = int((datetime.combine(holiday + timedelta(days=1), datetime.min.time(), zone)
                       - start).total_seconds())
        rows.append(("holiday", f"{start.astimezone(UTC):{_UTC}}|{seconds}"))
    return rows
