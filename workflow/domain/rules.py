"""Business rules as plain functions: extension policy and who may do what."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Problem
from workflow.domain.machine import TRANSITIONS, Action, Status

#: The shortest and longest extension an organisation may choose.
MIN_EXTENSION_LENGTH = 3
MAX_EXTENSION_LENGTH = 8


class Role(StrEnum):
    """What a user does in agentdesk."""

    REQUESTER = "requester"
    APPROVER = "approver"
    ADMIN = "admin"


class AgentStatus(StrEnum):
    """Whether an agent account rings: active, or revoked for good."""

    ACTIVE = "active"
    REVOKED = "revoked"


#: The kinds of branch an organisation has: a facility, an office or a branch.
BRANCH_KINDS = ("branch", "office", "facility")


@dataclass(frozen=True)
class ExtensionPolicy:
    """An organisation's rule for extension numbers."""

    length: int
    prefix: str = ""
    reserved: frozenset[str] = field(default_factory=frozenset)

    def problems(self) -> list[Problem]:
        """What is wrong with the policy itself (empty when it is usable)."""
        found = []
        if not MIN_EXTENSION_LENGTH <= self.length <= MAX_EXTENSION_LENGTH:
            found.append(
                Problem(ErrorCode.POLICY_LENGTH_RANGE, {"min": MIN_EXTENSION_LENGTH,
                                                "max": MAX_EXTENSION_LENGTH})
            )
        if self.prefix and (not self.prefix.isdecimal() or not self.prefix.isascii()):
            found.append(Problem(ErrorCode.POLICY_PREFIX_DIGITS))
        elif self.prefix.startswith("0"):
            found.append(Problem(ErrorCode.POLICY_PREFIX_ZERO))
        elif len(self.prefix) >= self.length:
            found.append(Problem(ErrorCode.POLICY_PREFIX_TOO_LONG, {"length": self.length}))
        return found

    def number_range(self) -> tuple[int, int]:
        """The smallest and largest number of the policy's length and prefix (reserved or not)."""
        free_digits = self.length - len(self.prefix)
        if not self.prefix:
            return 10 ** (free_digits - 1), 10**free_digits - 1
        return int(self.prefix + "0" * free_digits), int(self.prefix + "9" * free_digits)


def clean_extension(raw: str) -> str:
    """An extension as typed or pasted ("5 012", " 5012 "), without any blank inside or
    around: digits are what count, as with phone numbers."""
    return "".join(raw.split())


def extension_problems(policy: ExtensionPolicy, extension: str) -> list[Problem]:
    """Every way `extension` breaks `policy` (empty when it is valid)."""
    if not extension.isascii() or not extension.isdecimal():
        return [Problem(ErrorCode.EXTENSION_DIGITS)]
    found = []
    if set(extension) == {"0"}:
        found.append(Problem(ErrorCode.EXTENSION_ZERO))
    elif extension.startswith("0"):
        found.append(Problem(ErrorCode.EXTENSION_LEADING_ZERO))
    if len(extension) != policy.length:
        found.append(Problem(ErrorCode.EXTENSION_LENGTH, {"length": policy.length}))
    if not extension.startswith(policy.prefix):
        found.append(Problem(ErrorCode.EXTENSION_PREFIX, {"prefix": policy.prefix}))
    if extension in policy.reserved:
        found.append(Problem(ErrorCode.EXTENSION_RESERVED))
    return found


@dataclass(frozen=True)
class Actor:
    """The person doing something, as the rules need to see them."""

    user_id: int
    role: Role
    all_branches: bool = False
    branch_ids: frozenset[int] = frozenset()

    def covers(self, branch_id: int) -> bool:
        """Whether this user's scope includes `branch_id`."""
        return self.role is Role.ADMIN or self.all_branches or branch_id in self.branch_ids


def decision_refusal(actor: Actor, branch_id: int, requester_id: int) -> ErrorCode | None:
    """Why `actor` may not approve or reject this ticket, or None when they may."""
    if actor.role not in (Role.APPROVER, Role.ADMIN):
        return ErrorCode.NOT_AN_APPROVER
    if actor.user_id == requester_id:
        return ErrorCode.OWN_TICKET
    if not actor.covers(branch_id):
        return ErrorCode.OUT_OF_SCOPE
    return None


def cancel_refusal(actor: Actor, requester_id: int) -> ErrorCode | None:
    """Why `actor` may not cancel this ticket, or None when they may."""
    if actor.role is Role.ADMIN or actor.user_id == requester_id:
        return None
    return ErrorCode.NOT_REQUESTER


def retry_refusal(actor: Actor, branch_id: int) -> ErrorCode | None:
    """Why `actor` may not retry a failed ticket, or None when they may."""
    if actor.role not in (Role.APPROVER, Role.ADMIN):
        return ErrorCode.NOT_AN_APPROVER
    if not actor.covers(branch_id):
        return ErrorCode.OUT_OF_SCOPE
    return None


@dataclass(frozen=True)
class TicketFacts:
    """What the rules need to know of a ticket to say who may act on it."""

    state: Status
    branch_id: int
    requester_id: int


def _may_decide(actor: Actor, ticket: TicketFacts) -> ErrorCode | None:
    """Why `actor` may not approve or reject this ticket, or None."""
    return decision_refusal(actor, ticket.branch_id, ticket.requester_id)


def _may_cancel(actor: Actor, ticket: TicketFacts) -> ErrorCode | None:
    """Why `actor` may not cancel this ticket, or None."""
    return cancel_refusal(actor, ticket.requester_id)


def _may_retry(actor: Actor, ticket: TicketFacts) -> ErrorCode | None:
    """Why `actor` may not retry this ticket, or None."""
    return retry_refusal(actor, ticket.branch_id)


#: The guard of each action a person takes; the table's other actions are the workers' alone.
GUARDS: dict[Action, Callable[[Actor, TicketFacts], ErrorCode | None]] = {
    Action.APPROVE: _may_decide,
    Action.REJECT: _may_decide,
    Action.CANCEL: _may_cancel,
    Action.RETRY: _may_retry,
}


def action_refusal(actor: Actor, action: Action, ticket: TicketFacts) -> ErrorCode | None:
    """Why `actor` may not take the person's `action` on this ticket, or None when they may."""
    return GUARDS[action](actor, ticket)


def allowed_actions(ticket: TicketFacts, actor: Actor) -> frozenset[Action]:
    """The actions `actor` may take on the ticket now: the table's, as far as the guards let."""
    return frozenset(
        action for state, action in TRANSITIONS
        if state == ticket.state and action in GUARDS and GUARDS[action](actor, ticket) is None
    )


def visible_branch_filter(actor: Actor) -> Collection[int] | None:
    """Branches whose tickets `actor` may see beyond their own; None means all."""
    if actor.role is Role.ADMIN or actor.all_branches:
        return None
    if actor.role is Role.APPROVER:
        return actor.branch_ids
    return frozenset()
