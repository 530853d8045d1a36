"""What the Kamailio adapter writes for calling rules and working time, and reads back."""

from __future__ import annotations

from datetime import date, time

import pytest

from tasks.pbx.calendar import calendar_rows
from tasks.pbx.preferences import CALLING, calling_of, calling_preferences
from workflow.domain.calling_rules import NO_PROFILE, CallingRules, WorkingHours
from workflow.domain.numbers import NumberClass

TELESALES = CallingRules(
    outgoing=True, classes=frozenset({NumberClass.INTERNAL, NumberClass.MOBILE}),
    caller_ids=("+842473005678", "+842873001234"), default_caller_id="+842473005678",
    max_internal_seconds=None, max_outgoing_seconds=1800, after_hours=False,
    external_forwarding=True)


@pytest.mark.parametrize("rules", [TELESALES, NO_PROFILE, CallingRules(
    outgoing=True, classes=frozenset(NumberClass), caller_ids=("+842873001234",),
    max_internal_seconds=60, after_hours=True)])
def test_calling_rules_survive_the_round_trip_through_preferences(rules: CallingRules) -> None:
    written = calling_preferences(rules)
    assert set(written) <= set(CALLING)
    assert calling_of(written) == rules


def test_the_preferences_kamailio_reads() -> None:
    assert calling_preferences(TELESALES) == {
        "cos_out": "1", "cos_classes": "internal,mobile",
        "cos_callerids": "+842473005678,+842873001234", "cos_callerid": "+842473005678",
        "cos_max_out": "1800", "cos_after_hours": "0", "cos_forward": "1"}
    assert calling_of({}) is None  # an account agentdesk never gave rules


def test_working_time_becomes_utc_recurrences() -> None:
    hours = WorkingHours(
        periods=((0, time(8), time(12)), (0, time(13, 30), time(17, 30)),
                 (6, time(6), time(8))),  # Sunday 06:00 local is Saturday 23:00 UTC
        holidays=frozenset({date(2026, 4, 30), date(2026, 9, 2)}))
    assert calendar_rows(hours) == [
        ("work", "20260105T010000|PT14400S|weekly"),
        ("work", "20260105T063000|PT14400S|weekly"),
        # Sunday 06:00-08:00 local crosses midnight UTC: two windows
        ("work", "20260110T230000|PT3600S|weekly"),
        ("work", "20260111T000000|PT3600S|weekly"),
        # A day off in Vietnam starts at 17:00 UTC the day before
        ("holiday", "20260429T170000|PT25200S"),
        ("holiday", "20260430T000000|PT61200S"),
        ("holiday", "20260901T170000|PT25200S"),
        ("holiday", "20260902T000000|PT61200S"),
    ]


def test_an_organisation_without_working_time_has_no_recurrences() -> None:
    assert calendar_rows(WorkingHours()) == []
