"""The transition table: every allowed pair leads where it should, every other is refused."""

from __future__ import annotations

import itertools

import pytest

from workflow.domain.errors import TransitionNotAllowed
from workflow.domain.machine import (
    FINAL_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    Status,
    next_status,
)

EXPECTED = {
    (Status.SUBMITTED, Action.APPROVE): Status.APPROVED,
    (Status.SUBMITTED, Action.REJECT): Status.REJECTED,
    (Status.SUBMITTED, Action.CANCEL): Status.CANCELLED,
    (Status.APPROVED, Action.START): Status.PROVISIONING,
    (Status.PROVISIONING, Action.COMPLETE): Status.PROVISIONED,
    (Status.PROVISIONING, Action.FAIL): Status.FAILED,
    (Status.PROVISIONING, Action.RETAKE): Status.PROVISIONING,
    (Status.FAILED, Action.RETRY): Status.APPROVED,
    (Status.FAILED, Action.CANCEL): Status.CANCELLED,
}

ALL_PAIRS = list(itertools.product(Status, Action))


@pytest.mark.parametrize(("state", "action"), list(EXPECTED))
def test_each_allowed_pair_leads_to_its_state(state: Status, action: Action) -> None:
    assert next_status(state, action) is EXPECTED[(state, action)]


@pytest.mark.parametrize(("state", "action"), [pair for pair in ALL_PAIRS if pair not in EXPECTED])
def test_each_other_pair_is_refused_with_a_readable_message(state: Status, action: Action) -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        next_status(state, action)
    assert str(refused.value) == f"Can't {action.value} when in {state.value}."


def test_the_table_is_exactly_the_documented_one() -> None:
    assert TRANSITIONS == EXPECTED


def test_final_states_have_no_way_out() -> None:
    for state in FINAL_STATES:
        assert not [pair for pair in TRANSITIONS if pair[0] is state]
    assert {Status.SUBMITTED, Status.APPROVED, Status.PROVISIONING, Status.FAILED} == OPEN_STATES
