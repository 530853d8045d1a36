"""Calling profiles: which applies, working hours, call verdicts and forwarding, table-driven."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest

from workflow.domain.calling_rules import (
    NO_PROFILE,
    PRECEDENCE,
    Assigned,
    CallingRules,
    Effective,
    Level,
    Profile,
    Verdict,
    WorkingHours,
    call_verdict,
    forward_problems,
)
from workflow.domain.calling_rules import resolve as resolve_profile
from workflow.domain.errors import Problem
from workflow.domain.numbers import CHOOSABLE, NumberClass

INTERNAL = NumberClass.INTERNAL
LANDLINE = NumberClass.LANDLINE
MOBILE = NumberClass.MOBILE
INTERNATIONAL = NumberClass.INTERNATIONAL
SPECIAL = NumberClass.SPECIAL
EMERGENCY = NumberClass.EMERGENCY

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ICT = timezone(timedelta(hours=7))  # the same offset, written without a zone database

HOTLINE = "+842873001234"
SECOND_HOTLINE = "+842473005678"
STRANGER = "+84912345678"

# --- Resolution -------------------------------------------------------------------------------

RULES_BY_LEVEL = {
    Level.AGENT: CallingRules(outgoing=True, classes=frozenset(CHOOSABLE)),
    Level.ROLE: CallingRules(outgoing=True, classes=frozenset({INTERNAL, MOBILE})),
    Level.DEPARTMENT: CallingRules(outgoing=True, classes=frozenset({INTERNAL, LANDLINE})),
    Level.BRANCH: CallingRules(max_internal_seconds=300),
    Level.ORGANISATION: CallingRules(max_internal_seconds=60),
}
TARGETS = {
    Level.AGENT: "an.nguyen@example.vn",
    Level.ROLE: "Telesales",
    Level.DEPARTMENT: "Chăm sóc khách hàng",
    Level.BRANCH: "Chi nhánh Hà Nội",
    Level.ORGANISATION: "Công ty ABC",
}
ASSIGNED = {
    level: Assigned(level, TARGETS[level], Profile(id_, f"Profile {level}", RULES_BY_LEVEL[level]))
    for id_, level in enumerate(Level, start=1)
}
#: Independent of the module: a bigger number is a more specific assignment.
SPECIFICITY = {Level.ORGANISATION: 1, Level.BRANCH: 2, Level.DEPARTMENT: 3, Level.ROLE: 4,
               Level.AGENT: 5}
A, R, D, B, ORG = Level.AGENT, Level.ROLE, Level.DEPARTMENT, Level.BRANCH, Level.ORGANISATION


def test_documented_precedence() -> None:
    assert PRECEDENCE == (A, R, D, B, ORG)
    assert set(PRECEDENCE) == set(Level)


@pytest.mark.parametrize(
    ("levels", "winner"),
    [
        ({ORG}, ORG),
        ({B}, B),
        ({D}, D),
        ({R}, R),
        ({A}, A),
        ({A, R, D, B, ORG}, A),
        ({A, ORG}, A),
        ({A, R}, A),
        ({A, D}, A),
        ({A, B}, A),
        ({R, D, B, ORG}, R),
        ({R, D}, R),  # what the person does beats where they sit
        ({R, B}, R),
        ({R, ORG}, R),
        ({D, B, ORG}, D),
        ({D, B}, D),
        ({D, ORG}, D),
        ({B, ORG}, B),
    ],
)
def test_most_specific_assignment_wins(levels: set[Level], winner: Level) -> None:
    effective = resolve_profile({level: ASSIGNED[level] for level in levels})
    assert effective == Effective(RULES_BY_LEVEL[winner], ASSIGNED[winner])
    assert effective.source is not None
    assert effective.source.target == TARGETS[winner]


@pytest.mark.parametrize(
    "levels",
    [set(chosen) for size in range(1, len(Level) + 1) for chosen in combinations(Level, size)],
    ids=lambda levels: "+".join(sorted(levels)),
)
def test_every_combination_of_levels(levels: set[Level]) -> None:
    winner = max(levels, key=SPECIFICITY.__getitem__)
    assert resolve_profile({level: ASSIGNED[level] for level in levels}).source == ASSIGNED[winner]


def test_nothing_assigned_is_internal_calls_only() -> None:
    assert resolve_profile({}) == Effective(NO_PROFILE, None)
    assert NO_PROFILE.outgoing is False
    assert NO_PROFILE.classes == frozenset({INTERNAL})
    assert NO_PROFILE.caller_ids == ()
    assert NO_PROFILE.default_caller_id is None
    assert NO_PROFILE.after_hours is False
    assert NO_PROFILE.external_forwarding is False


# --- Working hours ----------------------------------------------------------------------------

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
#: Monday to Friday 8:00–12:00 and 13:30–17:30, Saturday morning; 1/1, Tết 2025, 30/4, 1/5, 2/9.
OFFICE = WorkingHours(
    periods=(*((day, start, end) for day in (MON, TUE, WED, THU, FRI)
               for start, end in ((time(8), time(12)), (time(13, 30), time(17, 30)))),
             (SAT, time(8), time(12))),
    holidays=frozenset({date(2025, 1, 1), date(2025, 1, 27), date(2025, 1, 28), date(2025, 1, 29),
                        date(2025, 1, 30), date(2025, 1, 31), date(2025, 4, 30), date(2025, 5, 1),
                        date(2025, 9, 1), date(2025, 9, 2)}),
)
#: A contact centre open 7:00–24:00 (written 23:59:59.999999) every day and 0:00–2:00 on Monday.
LATE = WorkingHours(
    periods=(*((day, time(7), time.max) for day in range(7)), (MON, time(0), time(2))),
)
#: Every minute of every day but 30/4, 1/5 and 2/9 2025.
ROUND_THE_CLOCK = WorkingHours(
    periods=tuple((day, time(0), time.max) for day in range(7)),
    holidays=frozenset({date(2025, 4, 30), date(2025, 5, 1), date(2025, 9, 2)}),
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)


#: Monday 28 April 2025, 10:00 in Hà Nội.
MONDAY_10 = utc(2025, 4, 28, 3, 0)
#: Sunday 27 April 2025, 10:00 in Hà Nội.
SUNDAY_10 = utc(2025, 4, 27, 3, 0)
#: Wednesday 30 April 2025 (Reunification Day), 10:00 in Hà Nội.
APRIL_30_10 = utc(2025, 4, 30, 3, 0)


@pytest.mark.parametrize(
    ("hours", "moment", "covered"),
    [
        # An ordinary Monday, written in UTC, in Hà Nội time, and with a bare +07:00 offset
        (OFFICE, MONDAY_10, True),
        (OFFICE, local(2025, 4, 28, 10, 0), True),
        (OFFICE, datetime(2025, 4, 28, 10, 0, tzinfo=ICT), True),
        # 10:00 UTC on a Monday is 17:00 in Hà Nội: still working; 11:00 UTC is 18:00: not
        (OFFICE, utc(2025, 4, 28, 10, 0), True),
        (OFFICE, utc(2025, 4, 28, 11, 0), False),
        # The same instant written in New York time
        (OFFICE, datetime(2025, 4, 27, 23, 0, tzinfo=ZoneInfo("America/New_York")), True),
        # Period boundaries: start included, end excluded
        (OFFICE, local(2025, 4, 28, 8, 0), True),
        (OFFICE, local(2025, 4, 28, 7, 59, 59, 999999), False),
        (OFFICE, local(2025, 4, 28, 11, 59, 59, 999999), True),
        (OFFICE, local(2025, 4, 28, 12, 0), False),
        (OFFICE, local(2025, 4, 28, 12, 45), False),  # lunch
        (OFFICE, local(2025, 4, 28, 13, 29, 59), False),
        (OFFICE, local(2025, 4, 28, 13, 30), True),
        (OFFICE, local(2025, 4, 28, 17, 29, 59), True),
        (OFFICE, local(2025, 4, 28, 17, 30), False),
        (OFFICE, utc(2025, 4, 28, 10, 30), False),  # 17:30 local exactly, given in UTC
        (OFFICE, utc(2025, 4, 28, 1, 0), True),  # 8:00 local exactly, given in UTC
        # Saturday morning only, Sunday never
        (OFFICE, local(2025, 4, 26, 9, 0), True),
        (OFFICE, local(2025, 4, 26, 14, 0), False),
        (OFFICE, SUNDAY_10, False),
        (OFFICE, local(2025, 4, 27, 14, 0), False),
        # Holidays are never covered, whatever their weekday
        (OFFICE, APRIL_30_10, False),
        (OFFICE, local(2025, 5, 1, 10, 0), False),
        (OFFICE, local(2025, 5, 2, 10, 0), True),  # the Friday after is a working day
        (OFFICE, local(2025, 9, 2, 10, 0), False),
        (OFFICE, local(2025, 9, 1, 14, 0), False),
        (OFFICE, local(2025, 1, 1, 9, 0), False),
        (OFFICE, local(2025, 1, 29, 9, 0), False),  # Mùng 1 Tết Ất Tỵ
        (OFFICE, local(2025, 1, 31, 15, 0), False),
        (OFFICE, local(2025, 1, 24, 15, 0), True),  # the Friday before Tết
        (OFFICE, local(2025, 2, 3, 9, 0), True),  # back to work after Tết
        (OFFICE, local(2026, 4, 30, 10, 0), True),  # the set names 2025 dates only
        # Around midnight: the day is the local one, not the UTC one
        # 23:59 local on Sunday 27/4 is 16:59 UTC the same day: still Sunday, not Monday
        (LATE, local(2025, 4, 27, 23, 59), True),
        (LATE, utc(2025, 4, 27, 16, 59, 59), True),
        # 17:30 UTC on Sunday is already 0:30 on Monday in Hà Nội: the Monday night period
        (LATE, utc(2025, 4, 27, 17, 30), True),
        # 19:30 UTC on Monday is 2:30 on Tuesday in Hà Nội: no night period on Tuesday
        (LATE, utc(2025, 4, 28, 19, 30), False),
        # 23:59 UTC on Monday is 6:59 on Tuesday in Hà Nội; 0:00 UTC Tuesday is 7:00 there
        (LATE, utc(2025, 4, 28, 23, 59), False),
        (LATE, utc(2025, 4, 29, 0, 0), True),
        # Open round the clock except holidays: 17:30 UTC on Tuesday 29/4 is already 0:30 on the
        # 30/4 holiday in Hà Nội, 16:30 UTC is 23:30 on the working Tuesday
        (ROUND_THE_CLOCK, utc(2025, 4, 29, 17, 30), False),
        (ROUND_THE_CLOCK, utc(2025, 4, 29, 16, 59, 59), True),
        # ... and the holiday ends at midnight local, 17:00 UTC
        (ROUND_THE_CLOCK, utc(2025, 4, 30, 16, 59, 59), False),
        (ROUND_THE_CLOCK, utc(2025, 4, 30, 17, 0), False),  # 1/5 is a holiday too
        (ROUND_THE_CLOCK, utc(2025, 5, 1, 17, 0), True),  # 0:00 on Friday 2/5
        (ROUND_THE_CLOCK, utc(2025, 9, 1, 16, 30), True),  # 23:30 on Monday 1/9 (not listed)
        (ROUND_THE_CLOCK, utc(2025, 9, 1, 17, 0), False),  # 0:00 on 2/9
        (ROUND_THE_CLOCK, utc(2025, 9, 2, 17, 0), True),  # 0:00 on Wednesday 3/9
        # No periods: never
        (WorkingHours(), MONDAY_10, False),
    ],
)
def test_working_hours_cover(hours: WorkingHours, moment: datetime, covered: bool) -> None:
    assert hours.covers(moment) is covered


@pytest.mark.parametrize(
    ("moment", "covered"),
    [
        # London works 9:00–17:00 local wall-clock time, in winter (GMT) and summer (BST)
        (utc(2025, 3, 24, 9, 0), True),
        (utc(2025, 3, 24, 8, 30), False),
        (utc(2025, 3, 31, 8, 0), True),
        (utc(2025, 3, 31, 16, 30), False),
        (utc(2025, 3, 31, 15, 59), True),
    ],
)
def test_working_hours_in_another_time_zone(moment: datetime, covered: bool) -> None:
    london = WorkingHours(periods=((MON, time(9), time(17)),), timezone="Europe/London")
    assert london.covers(moment) is covered


# --- Call verdicts ----------------------------------------------------------------------------

#: Everything allowed in office hours, two hotlines, limits on both kinds of calls.
SALES = CallingRules(
    outgoing=True,
    classes=frozenset(CHOOSABLE),
    caller_ids=(SECOND_HOTLINE, HOTLINE),
    default_caller_id=HOTLINE,
    max_internal_seconds=600,
    max_outgoing_seconds=1800,
    external_forwarding=True,
)
#: Domestic calls only, no limits.
DOMESTIC = CallingRules(
    outgoing=True,
    classes=frozenset({INTERNAL, LANDLINE, MOBILE}),
    caller_ids=(HOTLINE,),
    default_caller_id=HOTLINE,
)
#: Outgoing switched off, but otherwise generous.
SILENCED = replace(SALES, outgoing=False)
#: Outgoing calls but no internal ones.
NO_INTERNAL = replace(SALES, classes=frozenset({LANDLINE, MOBILE}))


@pytest.mark.parametrize(
    ("rules", "number_class", "moment", "caller_id", "verdict"),
    [
        # Emergency numbers: always, even with outgoing off, outside hours, on holidays
        (NO_PROFILE, EMERGENCY, MONDAY_10, None, Verdict(True, "emergency")),
        (NO_PROFILE, EMERGENCY, SUNDAY_10, None, Verdict(True, "emergency")),
        (SILENCED, EMERGENCY, APRIL_30_10, None, Verdict(True, "emergency", HOTLINE)),
        (NO_INTERNAL, EMERGENCY, SUNDAY_10, None, Verdict(True, "emergency", HOTLINE)),
        (replace(SALES, classes=frozenset()), EMERGENCY, SUNDAY_10, None,
         Verdict(True, "emergency", HOTLINE)),
        # ... and never cut short, whatever the limits
        (SALES, EMERGENCY, MONDAY_10, None, Verdict(True, "emergency", HOTLINE)),
        (SALES, EMERGENCY, MONDAY_10, STRANGER, Verdict(True, "emergency", HOTLINE)),
        # Internal calls: allowed outside hours and with outgoing off, with the internal limit
        (NO_PROFILE, INTERNAL, MONDAY_10, None, Verdict(True, "allowed")),
        (NO_PROFILE, INTERNAL, SUNDAY_10, None, Verdict(True, "allowed")),
        (NO_PROFILE, INTERNAL, APRIL_30_10, None, Verdict(True, "allowed")),
        (SALES, INTERNAL, MONDAY_10, None, Verdict(True, "allowed", None, 600)),
        (SALES, INTERNAL, SUNDAY_10, None, Verdict(True, "allowed", None, 600)),
        (SALES, INTERNAL, MONDAY_10, HOTLINE, Verdict(True, "allowed", None, 600)),
        (SILENCED, INTERNAL, APRIL_30_10, None, Verdict(True, "allowed", None, 600)),
        (DOMESTIC, INTERNAL, MONDAY_10, None, Verdict(True, "allowed")),
        (NO_INTERNAL, INTERNAL, MONDAY_10, None, Verdict(False, "class_not_allowed")),
        # Outgoing off
        (NO_PROFILE, LANDLINE, MONDAY_10, None, Verdict(False, "outgoing_off")),
        (NO_PROFILE, MOBILE, MONDAY_10, None, Verdict(False, "outgoing_off")),
        (NO_PROFILE, INTERNATIONAL, MONDAY_10, None, Verdict(False, "outgoing_off")),
        (NO_PROFILE, SPECIAL, MONDAY_10, None, Verdict(False, "outgoing_off")),
        (SILENCED, MOBILE, MONDAY_10, HOTLINE, Verdict(False, "outgoing_off")),
        # Class not allowed
        (DOMESTIC, INTERNATIONAL, MONDAY_10, None, Verdict(False, "class_not_allowed")),
        (DOMESTIC, SPECIAL, MONDAY_10, None, Verdict(False, "class_not_allowed")),
        (NO_INTERNAL, SPECIAL, MONDAY_10, None, Verdict(False, "class_not_allowed")),
        # Outside working hours
        (SALES, MOBILE, SUNDAY_10, None, Verdict(False, "outside_working_hours")),
        (SALES, LANDLINE, APRIL_30_10, None, Verdict(False, "outside_working_hours")),
        (SALES, INTERNATIONAL, local(2025, 9, 2, 10, 0), None,
         Verdict(False, "outside_working_hours")),
        (SALES, MOBILE, local(2025, 1, 29, 9, 0), None, Verdict(False, "outside_working_hours")),
        (SALES, MOBILE, local(2025, 4, 28, 17, 30), None, Verdict(False, "outside_working_hours")),
        (SALES, MOBILE, local(2025, 4, 28, 12, 0), None, Verdict(False, "outside_working_hours")),
        (SALES, MOBILE, local(2025, 4, 28, 8, 0), None, Verdict(True, "allowed", HOTLINE, 1800)),
        # ... unless the profile allows calls after hours
        (replace(SALES, after_hours=True), MOBILE, SUNDAY_10, None,
         Verdict(True, "allowed", HOTLINE, 1800)),
        (replace(SALES, after_hours=True), SPECIAL, APRIL_30_10, SECOND_HOTLINE,
         Verdict(True, "allowed", SECOND_HOTLINE, 1800)),
        # Caller ID: the default, the requested one when it is one of the profile's
        (SALES, MOBILE, MONDAY_10, None, Verdict(True, "allowed", HOTLINE, 1800)),
        (SALES, MOBILE, MONDAY_10, "", Verdict(True, "allowed", HOTLINE, 1800)),
        (SALES, LANDLINE, MONDAY_10, SECOND_HOTLINE,
         Verdict(True, "allowed", SECOND_HOTLINE, 1800)),
        (SALES, INTERNATIONAL, MONDAY_10, HOTLINE, Verdict(True, "allowed", HOTLINE, 1800)),
        (replace(SALES, default_caller_id=None), MOBILE, MONDAY_10, SECOND_HOTLINE,
         Verdict(True, "allowed", SECOND_HOTLINE, 1800)),
        (DOMESTIC, MOBILE, MONDAY_10, None, Verdict(True, "allowed", HOTLINE)),
        # ... no caller ID at all
        (replace(SALES, default_caller_id=None), MOBILE, MONDAY_10, None,
         Verdict(False, "no_caller_id")),
        (replace(SALES, caller_ids=(), default_caller_id=None), MOBILE, MONDAY_10, None,
         Verdict(False, "no_caller_id")),
        # ... a requested caller ID that is not one of the profile's
        (SALES, MOBILE, MONDAY_10, STRANGER, Verdict(False, "caller_id_not_allowed")),
        (DOMESTIC, MOBILE, MONDAY_10, SECOND_HOTLINE, Verdict(False, "caller_id_not_allowed")),
        (replace(SALES, caller_ids=()), MOBILE, MONDAY_10, None,
         Verdict(False, "caller_id_not_allowed")),
        (replace(SALES, caller_ids=(SECOND_HOTLINE,)), MOBILE, MONDAY_10, None,
         Verdict(False, "caller_id_not_allowed")),
        # Limits: internal and outgoing calls have their own
        (replace(SALES, max_internal_seconds=None), INTERNAL, MONDAY_10, None,
         Verdict(True, "allowed")),
        (replace(SALES, max_internal_seconds=None), MOBILE, MONDAY_10, None,
         Verdict(True, "allowed", HOTLINE, 1800)),
        (replace(SALES, max_outgoing_seconds=None), MOBILE, MONDAY_10, None,
         Verdict(True, "allowed", HOTLINE)),
        (replace(SALES, max_outgoing_seconds=None), INTERNAL, MONDAY_10, None,
         Verdict(True, "allowed", None, 600)),
        (replace(SALES, max_internal_seconds=1800, max_outgoing_seconds=600), INTERNAL,
         MONDAY_10, None, Verdict(True, "allowed", None, 1800)),
        (replace(SALES, max_internal_seconds=1800, max_outgoing_seconds=600), SPECIAL,
         MONDAY_10, None, Verdict(True, "allowed", HOTLINE, 600)),
    ],
)
def test_call_verdict(rules: CallingRules, number_class: NumberClass, moment: datetime,
                      caller_id: str | None, verdict: Verdict) -> None:
    assert call_verdict(rules, number_class, moment, OFFICE, caller_id) == verdict


@pytest.mark.parametrize("number_class", [LANDLINE, MOBILE, INTERNATIONAL, SPECIAL])
@pytest.mark.parametrize("moment", [MONDAY_10, SUNDAY_10, APRIL_30_10])
def test_no_profile_calls_nobody_outside(number_class: NumberClass, moment: datetime) -> None:
    assert call_verdict(NO_PROFILE, number_class, moment, OFFICE, HOTLINE) == Verdict(
        False, "outgoing_off")


@pytest.mark.parametrize("rules", [NO_PROFILE, SALES, SILENCED, DOMESTIC, NO_INTERNAL])
@pytest.mark.parametrize("moment", [MONDAY_10, SUNDAY_10, APRIL_30_10, utc(2025, 1, 28, 20, 0)])
@pytest.mark.parametrize("hours", [OFFICE, WorkingHours()])
def test_emergency_is_never_refused(rules: CallingRules, moment: datetime,
                                    hours: WorkingHours) -> None:
    verdict = call_verdict(rules, EMERGENCY, moment, hours, STRANGER)
    assert (verdict.allowed, verdict.reason, verdict.max_seconds) == (True, "emergency", None)


@pytest.mark.parametrize(
    ("rules", "number_class", "reason"),
    [
        # Outgoing off is said before the class: switching it on is the first thing to do
        (replace(DOMESTIC, outgoing=False), INTERNATIONAL, "outgoing_off"),
        # A refused class is said before the clock: waiting would not help
        (DOMESTIC, INTERNATIONAL, "class_not_allowed"),
        # Outside hours is said before a caller ID problem
        (replace(SALES, caller_ids=(), default_caller_id=None), MOBILE, "outside_working_hours"),
    ],
)
def test_first_reason_wins(rules: CallingRules, number_class: NumberClass, reason: str) -> None:
    assert call_verdict(rules, number_class, SUNDAY_10, OFFICE, STRANGER) == Verdict(False, reason)


# --- Forwarding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "classes", "problems"),
    [
        # External forwarding off: refused whatever the destination
        (NO_PROFILE, [MOBILE], [Problem("forwarding_not_allowed")]),
        (NO_PROFILE, [], [Problem("forwarding_not_allowed")]),
        (replace(SALES, external_forwarding=False), [LANDLINE, MOBILE],
         [Problem("forwarding_not_allowed")]),
        # Allowed, to classes the profile may call
        (SALES, [MOBILE], []),
        (SALES, [LANDLINE, MOBILE, INTERNATIONAL, SPECIAL], []),
        (SALES, [], []),
        (replace(DOMESTIC, external_forwarding=True), [MOBILE, LANDLINE], []),
        # Allowed, but to a class the profile may not call
        (replace(DOMESTIC, external_forwarding=True), [INTERNATIONAL],
         [Problem("forward_class_not_allowed", {"classes": ["international"]})]),
        (replace(DOMESTIC, external_forwarding=True), [SPECIAL, MOBILE, INTERNATIONAL],
         [Problem("forward_class_not_allowed", {"classes": ["international", "special"]})]),
        (replace(DOMESTIC, external_forwarding=True), [SPECIAL, INTERNATIONAL, SPECIAL],
         [Problem("forward_class_not_allowed", {"classes": ["international", "special"]})]),
        # Allowed, but outgoing calls are off: forwarding would get around that
        (replace(SILENCED, external_forwarding=True), [MOBILE],
         [Problem("forward_class_not_allowed", {"classes": ["mobile"]})]),
        (replace(SILENCED, external_forwarding=True), [MOBILE, LANDLINE],
         [Problem("forward_class_not_allowed", {"classes": ["landline", "mobile"]})]),
    ],
)
def test_forward_problems(rules: CallingRules, classes: list[NumberClass],
                          problems: list[Problem]) -> None:
    assert forward_problems(rules, classes) == problems
    assert forward_problems(rules, iter(classes)) == problems  # any iterable, consumed once
