"""Who may do what to a ticket in each state, and the states each move starts from."""

from __future__ import annotations

import pytest

from workflow.domain.machine import TRANSITIONS, Action, Status, source, sources, target
from workflow.domain.rules import GUARDS, Actor, Role, TicketFacts, allowed_actions

BRANCH, OTHER_BRANCH = 10, 11
REQUESTER = Actor(1, Role.REQUESTER)
SCOPED_APPROVER = Actor(2, Role.APPROVER, branch_ids=frozenset({BRANCH}))
OTHER_BRANCH_APPROVER = Actor(3, Role.APPROVER, branch_ids=frozenset({OTHER_BRANCH}))
ADMIN = Actor(4, Role.ADMIN)
VIEWERS = {"requester": REQUESTER, "scoped approver": SCOPED_APPROVER,
           "other-branch approver": OTHER_BRANCH_APPROVER, "admin": ADMIN}

NOTHING: frozenset[Action] = frozenset()
#: What each viewer may do to a ticket that REQUESTER filed in BRANCH, by state.
EXPECTED: dict[Status, dict[str, frozenset[Action]]] = {
    Status.SUBMITTED: {
        "requester": frozenset({Action.CANCEL}),
        "scoped approver": frozenset({Action.APPROVE, Action.REJECT}),
        "other-branch approver": NOTHING,
        "admin": frozenset({Action.APPROVE, Action.REJECT, Action.CANCEL}),
    },
    Status.FAILED: {
        "requester": frozenset({Action.CANCEL}),
        "scoped approver": frozenset({Action.RETRY}),
        "other-branch approver": NOTHING,
        "admin": frozenset({Action.RETRY, Action.CANCEL}),
    },
    # The workers' states and the final ones offer nobody anything.
    **{state: dict.fromkeys(VIEWERS, NOTHING)
       for state in (Status.APPROVED, Status.PROVISIONING, Status.PROVISIONED,
                     Status.REJECTED, Status.CANCELLED)},
}
CASES = [(state, viewer) for state in Status for viewer in VIEWERS]


@pytest.mark.parametrize(("state", "viewer"), CASES)
def test_each_viewer_may_take_exactly_the_expected_actions(state: Status, viewer: str) -> None:
    ticket = TicketFacts(state, BRANCH, REQUESTER.user_id)
    assert allowed_actions(ticket, VIEWERS[viewer]) == EXPECTED[state][viewer]


def test_an_approver_may_not_decide_a_ticket_they_filed_but_may_cancel_it() -> None:
    ticket = TicketFacts(Status.SUBMITTED, BRANCH, SCOPED_APPROVER.user_id)
    assert allowed_actions(ticket, SCOPED_APPROVER) == {Action.CANCEL}


def test_an_approver_of_all_branches_decides_in_any_branch() -> None:
    everywhere = Actor(5, Role.APPROVER, all_branches=True)
    ticket = TicketFacts(Status.SUBMITTED, OTHER_BRANCH, REQUESTER.user_id)
    assert allowed_actions(ticket, everywhere) == {Action.APPROVE, Action.REJECT}


def test_the_workers_moves_are_never_offered_to_a_person() -> None:
    assert set(GUARDS) == {Action.APPROVE, Action.REJECT, Action.CANCEL, Action.RETRY}
    for state in Status:
        assert not allowed_actions(TicketFacts(state, BRANCH, 99), ADMIN) - set(GUARDS)


def test_each_move_starts_from_the_states_the_table_lists() -> None:
    assert sources(Action.START) == {Status.APPROVED}
    assert sources(Action.RETAKE) == {Status.PROVISIONING}
    assert sources(Action.COMPLETE) == {Status.PROVISIONING}
    assert sources(Action.CANCEL) == {Status.SUBMITTED, Status.FAILED}
    assert source(Action.RETRY) is Status.FAILED
    with pytest.raises(ValueError):
        source(Action.CANCEL)


def test_a_claim_leads_to_provisioning_whether_it_starts_or_retakes() -> None:
    assert target(Action.START, Action.RETAKE) is Status.PROVISIONING
    assert target(Action.CANCEL) is Status.CANCELLED
    with pytest.raises(ValueError, match="approve, reject lead to"):
        target(Action.APPROVE, Action.REJECT)


def test_taking_over_a_lapsed_lease_keeps_the_ticket_provisioning() -> None:
    assert TRANSITIONS[(Status.PROVISIONING, Action.RETAKE)] is Status.PROVISIONING
