"""A ticket is created in one named state, which no transition leads back into."""

from __future__ import annotations

from workflow.domain.machine import FINAL_STATES, INITIAL_STATE, TRANSITIONS, Status


def test_tickets_start_submitted() -> None:
    assert INITIAL_STATE is Status.SUBMITTED


def test_no_transition_leads_back_into_the_initial_state() -> None:
    assert INITIAL_STATE not in TRANSITIONS.values()
    assert INITIAL_STATE not in FINAL_STATES
