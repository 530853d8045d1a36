"""What every ticket kind declares: its names, what it asks of the employee, its plan and apply."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from workflow.credentials import Vault
from workflow.domain.routing import Routing
from workflow.ports import PhoneSystem
from workflow.tickets.claims import Claim
from workflow.tickets.submission_context import SubmissionContext


def N_(text: str) -> str:  # named by the gettext convention, which the extractor knows
    """Mark a name shown to people for the catalogs; the pages and the emails translate it."""
    return text


class Asked(Protocol):
    """What a requester asked for, as a kind's plan reads it."""

    @property
    def requested_extension(self) -> str | None:
        """The extension asked for, without blanks; None to have one picked or kept."""
        ...

    @property
    def routing_type(self) -> str | None:
        """The routing type asked for; None to keep the current one."""
        ...

    @property
    def priority_number(self) -> str | None:
        """The first number a forward rings."""
        ...

    @property
    def backup_number(self) -> str | None:
        """The number a forward rings when the first does not answer."""
        ...

    @property
    def reset_password(self) -> bool:
        """Whether the agent is to get a new SIP password."""
        ...


@dataclass
class Plan:
    """What a ticket will change, worked out before it is saved."""

    extension: str | None = None
    routing: Routing | None = None
    reset_password: bool = False
    #: The SIP username of an account the ticket creates.
    sip_username: str | None = None
    #: The extension is to be picked by the filing statement (`Pick.AT_FILING`).
    extension_at_filing: bool = False
    #: Field changes for the audit trail, as [before, after] pairs.
    changes: dict[str, Any] = field(default_factory=dict)


#: Checks a request of the kind against the employee's situation; raises RuleViolation.
Planner = Callable[[Session, Asked, SubmissionContext], Plan]
#: Brings the phone system and the agent rows to what the claims ask; changes by ticket id.
Applier = Callable[[Session, Sequence[Claim], PhoneSystem, Vault], dict[int, dict[str, Any]]]


@dataclass(frozen=True)
class Kind:
    """One kind of ticket: how it is named, filed and applied."""

    #: The code stored on the ticket and used by the API and the form.
    code: str
    #: The name shown to people, in Vietnamese (the source language of the catalogs).
    label: str
    #: True when the employee must hold an active agent, False when they must hold none.
    needs_agent: bool
    #: Whether the ticket asks for an extension and a routing.
    routes: bool
    #: Whether a blank extension has a free one picked (rather than keeping the current one).
    picks_extension: bool
    #: Whether the requester may ask for a new SIP password.
    resets_password: bool
    #: Whether applying it takes the account off the phone system (no new Web phone sign-ins
    #: once it is approved).
    removes_account: bool
    plan: Planner
    apply: Applier
