"""Submitting a setup ticket of any kind (see `workflow.tickets.kinds`) for an employee."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.db import execute_alone
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict, Problem, RuleViolation
from workflow.domain.machine import INITIAL_STATE
from workflow.domain.rules import Actor, clean_extension
from workflow.models import Ticket, User, on_postgresql, table, utcnow
from workflow.tickets import idempotency
from workflow.tickets.filing import file_ticket, file_with_next_extension
from workflow.tickets.kinds import TicketKind, kind_of
from workflow.tickets.kinds.kind import Plan
from workflow.tickets.submission_context import (
    Pick,
    SubmissionContext,
    read_submission_context,
)

logger = logging.getLogger(__name__)

#: Longest free-text description a ticket may carry.
MAX_DETAILS_LENGTH = 2000


@dataclass(frozen=True)
class TicketRequest:
    """A requester's ticket, as parsed from a form or the API."""

    kind: TicketKind
    employee_id: int
    extension: str | None = None
    routing_type: str | None = None
    priority_number: str | None = None
    backup_number: str | None = None
    details: str = ""
    notify_user_ids: tuple[int, ...] = ()
    idempotency_key: str | None = None
    #: A change ticket that issues the agent a new SIP password.
    reset_password: bool = False

    @property
    def requested_extension(self) -> str | None:
        """The extension asked for, without blanks; None to have one picked."""
        return clean_extension(self.extension) or None if self.extension else None


@dataclass(frozen=True)
class UserRef:
    """A user as a ticket names them."""

    id: int
    full_name: str
    email: str


@dataclass(frozen=True)
class SubmittedTicket:
    """A ticket as just filed or decided, with everything the caller is shown back."""

    id: int
    kind: str
    state: str
    version: int
    employee_id: int
    employee_name: str
    branch_id: int
    agent_id: int | None
    extension: str | None
    routing_type: str | None
    priority_number: str | None
    backup_number: str | None
    reset_password: bool
    details: str
    requester: UserRef
    watchers: tuple[UserRef, ...]
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> SubmittedTicket:
        """The view of a loaded ticket (an idempotent replay, a decision)."""
        return cls(
            id=ticket.id, kind=ticket.kind, state=ticket.state, version=ticket.version,
            employee_id=ticket.employee_id, employee_name=ticket.employee.full_name,
            branch_id=ticket.branch_id, agent_id=ticket.agent_id, extension=ticket.extension,
            routing_type=ticket.routing_type, priority_number=ticket.priority_number,
            backup_number=ticket.backup_number, reset_password=ticket.reset_password,
            details=ticket.details,
            requester=_ref(ticket.requester), watchers=tuple(map(_ref, ticket.watchers)),
            attempts=ticket.attempts, last_error=ticket.last_error,
            created_at=ticket.created_at, updated_at=ticket.updated_at,
        )


def _ref(user: User) -> UserRef:
    """The reference to a loaded user."""
    return UserRef(user.id, user.full_name, user.email)


_users = table(User).c
_WATCHERS = select(_users.id, _users.full_name, _users.email).where(
    _users.id.in_(bindparam("user_ids", expanding=True)), _users.active
)


def submit_ticket(session: Session, actor: Actor, request: TicketRequest) -> SubmittedTicket:
    """File a ticket after checking every rule; the same idempotency key yields one ticket
    (the first one filed with it, even to a request whose body differs: see `idempotency`)."""
    if request.idempotency_key is None:
        return _file(session, actor, request)
    return idempotency.once(session, actor.user_id, request.idempotency_key,
                            lambda: _file(session, actor, request), SubmittedTicket.of)


def _file(session: Session, actor: Actor, request: TicketRequest) -> SubmittedTicket:
    """Check the rules and save the ticket; a lost unique-index race is a `Conflict`.

    On PostgreSQL a ticket whose extension is to be picked first has its filing statement
    pick it (no lock held across round trips); when that cannot pick, the pick and the
    filing run under the pick lock. Other databases have one writer at a time anyway.
    """
    picks = kind_of(request.kind).picks_extension and request.requested_extension is None
    if picks and on_postgresql(session):
        saved = _check_and_save(session, actor, request, Pick.AT_FILING)
        if saved is not None:
            return saved
    saved = _check_and_save(session, actor, request, Pick.LOCKED if picks else Pick.NOW)
    assert saved is not None  # only a filing statement that picks can write nothing
    return saved


def _check_and_save(session: Session, actor: Actor, request: TicketRequest,
                    pick: Pick) -> SubmittedTicket | None:
    """Read the context, check the rules and save the ticket; None when its filing statement
    was to pick the extension and could not (nothing is written then)."""
    context = read_submission_context(session, request.employee_id, actor.user_id,
                                      request.requested_extension, pick)
    plan = _plan(session, request, context)
    watchers = _watchers(session, request.notify_user_ids) if request.notify_user_ids else ()
    routing = plan.routing
    now = utcnow()
    row: dict[str, Any] = {
        "kind": request.kind.value, "employee_id": context.employee_id,
        "branch_id": context.branch_id, "agent_id": context.agent_id,
        "extension": plan.extension,
        "routing_type": routing.type.value if routing else None,
        "priority_number": routing.priority_number if routing else None,
        "backup_number": routing.backup_number if routing else None,
        "sip_username": plan.sip_username,
        "reset_password": plan.reset_password,
        "details": request.details.strip(), "requester_id": actor.user_id,
        "idempotency_key": request.idempotency_key, "state": INITIAL_STATE.value,
        "version": 1, "attempts": 0, "created_at": now, "updated_at": now,
    }
    watcher_ids = [watcher.id for watcher in watchers]
    try:
        if plan.extension_at_filing:
            filed = file_with_next_extension(session, row, watcher_ids, plan.changes,
                                             context.policy)
            if filed is None:
                return None
            ticket_id, row["extension"] = filed
        else:
            ticket_id = file_ticket(session, row, watcher_ids, plan.changes, commits_next=True)
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise _conflict_from(error) from None
    logger.info("ticket %s submitted by user %s (%s)", ticket_id, actor.user_id, row["kind"])
    requester = UserRef(actor.user_id, context.requester_name, context.requester_email)
    return SubmittedTicket(
        id=ticket_id, employee_name=context.employee_name, requester=requester,
        watchers=watchers, last_error=None,
        **{name: row[name] for name in _ECHOED_COLUMNS},
    )


#: Columns of the inserted row that a `SubmittedTicket` repeats as they are.
_ECHOED_COLUMNS = ("kind", "state", "version", "employee_id", "branch_id", "agent_id",
                   "extension", "routing_type", "priority_number", "backup_number",
                   "reset_password", "details", "attempts", "created_at", "updated_at")


def _watchers(session: Session, user_ids: tuple[int, ...]) -> tuple[UserRef, ...]:
    """The users to notify, all of whom must exist."""
    rows = execute_alone(session, _WATCHERS, {"user_ids": list(user_ids)}).all()
    if len(rows) != len(set(user_ids)):
        raise RuleViolation.single("notify_user_ids", ErrorCode.UNKNOWN_USER)
    return tuple(UserRef(row.id, row.full_name, row.email) for row in rows)


def _conflict_from(error: IntegrityError) -> Conflict:
    """Translate a unique-index race into the conflict it stands for."""
    text = str(error.orig)
    if "uq_ticket_open_extension" in text or "ticket.extension" in text:
        return Conflict(ErrorCode.EXTENSION_RACE)
    if "uq_ticket_open_employee" in text or "ticket.employee_id" in text:
        return Conflict(ErrorCode.EMPLOYEE_RACE)
    return Conflict(ErrorCode.CONFLICT)


def _plan(session: Session, request: TicketRequest, context: SubmissionContext) -> Plan:
    """Check the rules every kind shares, then those of `request.kind`: what the ticket changes."""
    problems: dict[str, list[Problem]] = {}
    agent, kind = context.agent, kind_of(request.kind)
    if context.open_ticket_id is not None:
        problems["employee_id"] = [
            Problem(ErrorCode.EMPLOYEE_HAS_OPEN_TICKET, {"ticket_id": context.open_ticket_id})
        ]
    if len(request.details) > MAX_DETAILS_LENGTH:
        problems["details"] = [Problem(ErrorCode.DETAILS_TOO_LONG, {"max": MAX_DETAILS_LENGTH})]
    if not kind.needs_agent and agent is not None:
        problems.setdefault("employee_id", []).append(
            Problem(ErrorCode.EMPLOYEE_HAS_AGENT, {"extension": agent.extension})
        )
    if kind.needs_agent and agent is None:
        problems.setdefault("employee_id", []).append(Problem(ErrorCode.EMPLOYEE_HAS_NO_AGENT))
    if problems:
        raise RuleViolation(problems)
    return kind.plan(session, request, context)
