"""The ticket state machine: one explicit transition table."""

from __future__ import annotations

from enum import StrEnum

from workflow.domain.errors import TransitionNotAllowed


class Status(StrEnum):
    """Where a ticket is in its life."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    PROVISIONING = "provisioning"
    PROVISIONED = "provisioned"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Action(StrEnum):
    """What can happen to a ticket."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"
    RETRY = "retry"
    #: A worker takes over a ticket whose provisioning lease ran out, for another attempt.
    RETAKE = "retake"


#: The state a ticket is created in: where it starts, not a transition into it.
INITIAL_STATE = Status.SUBMITTED
#: The audit action of a ticket's creation, which starts it in INITIAL_STATE (not a transition).
SUBMIT = "submit"
#: The audit action of an open ticket following its employee to another branch (its state
#: stays; the approvers who decide it change).
MOVE_BRANCH = "move_branch"

#: Every allowed (state, action) pair and the state it leads to; anything else is refused.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.APPROVE): Status.APPROVED,
    (Status.SUBMITTED, Action.REJECT): Status.REJECTED,
    (Status.SUBMITTED, Action.CANCEL): Status.CANCELLED,
    (Status.APPROVED, Action.START): Status.PROVISIONING,
    (Status.PROVISIONING, Action.COMPLETE): Status.PROVISIONED,
    (Status.PROVISIONING, Action.FAIL): Status.FAILED,
    (Status.PROVISIONING, Action.RETAKE): Status.PROVISIONING,
    (Status.FAILED, Action.RETRY): Status.APPROVED,
    # A ticket that keeps failing must not block its employee forever.
    (Status.FAILED, Action.CANCEL): Status.CANCELLED,
}

#: States with no way out.
FINAL_STATES: frozenset[Status] = frozenset(
    {Status.PROVISIONED, Status.REJECTED, Status.CANCELLED}
)

#: States in which a ticket still holds its employee and its requested extension.
OPEN_STATES: frozenset[Status] = frozenset(set(Status) - FINAL_STATES)


def next_status(status: Status, action: Action) -> Status:
    """Return the state that `action` leads to from `status`, or refuse it."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionNotAllowed(action.value, status.value) from None


def sources(action: Action) -> frozenset[Status]:
    """The states from which `action` may be taken."""
    return frozenset(state for state, each in TRANSITIONS if each is action)


def target(*actions: Action) -> Status:
    """The one state that all of `actions` lead to, from whichever state they are taken."""
    targets = {to for (_, each), to in TRANSITIONS.items() if each in actions}
    if len(targets) != 1:
        raise ValueError(f"{', '.join(actions)} lead to {sorted(targets) or 'nowhere'}")
    return targets.pop()


def source(action: Action) -> Status:
    """The one state from which `action` may be taken."""
    found = sources(action)
    if len(found) != 1:
        raise ValueError(f"{action} is taken from {sorted(found) or 'nowhere'}")
    return next(iter(found))
