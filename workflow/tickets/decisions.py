"""Deciding on tickets: approve, reject, cancel and retry."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from workflow import outbox
from workflow.db import alone, execute_alone, prefixed
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from workflow.domain.machine import Action, Status, next_status, sources
from workflow.domain.rules import Actor, TicketFacts, action_refusal, allowed_actions
from workflow.models import Ticket, on_postgresql, utcnow
from workflow.tickets.decision_statement import DecisionWrites, decision_statement
from workflow.tickets.notifications import Audience, notify
from workflow.tickets.submission import SubmittedTicket
from workflow.tickets.transitions import Moved, keep_in_step, transition

logger = logging.getLogger(__name__)

#: Longest comment or reason kept on a decision.
MAX_COMMENT_LENGTH = 2000
#: States of a ticket still waiting for its decision (its approvers hear of a cancel there).
_UNDECIDED = sources(Action.APPROVE)


#: What a decision shows back, loaded with the ticket: after the commit, which hands the
#: ticket to a worker, the answer needs no further query competing with the provisioning.
_SHOWN_BACK = (joinedload(Ticket.employee), joinedload(Ticket.requester),
               joinedload(Ticket.watchers))


def _ticket_to_decide(session: Session, ticket_id: int) -> Ticket:
    """The ticket with what a decision shows back of it, or NotFound (read alone: the
    decision's write compares the version read)."""
    with alone(session):
        ticket = session.execute(
            select(Ticket).where(Ticket.id == ticket_id).options(*_SHOWN_BACK)
        ).unique().scalar_one_or_none()
    if ticket is None:
        raise NotFound(ErrorCode.TICKET_NOT_FOUND, ticket_id=ticket_id)
    return ticket


def facts_of(ticket: Ticket) -> TicketFacts:
    """What the rules need to know of a loaded ticket."""
    return TicketFacts(Status(ticket.state), ticket.branch_id, ticket.requester_id)


def actions_on(ticket: Ticket, actor: Actor) -> frozenset[Action]:
    """The actions `actor` may take on this ticket now: what the pages offer them."""
    return allowed_actions(facts_of(ticket), actor)


def approve_ticket(session: Session, actor: Actor, ticket_id: int, comment: str = ""
                   ) -> SubmittedTicket:
    """Approve a submitted ticket and promise its provisioning."""
    ticket = _ticket_to_decide(session, ticket_id)
    _require(actor, Action.APPROVE, ticket)
    return _record(session, ticket, actor, DecisionWrites(Action.APPROVE, provisions=True),
                   _comment(comment))


def reject_ticket(session: Session, actor: Actor, ticket_id: int, reason: str
                  ) -> SubmittedTicket:
    """Reject a submitted ticket; a reason is required."""
    ticket = _ticket_to_decide(session, ticket_id)
    _require(actor, Action.REJECT, ticket)
    if not reason or not reason.strip():
        raise RuleViolation.single("reason", ErrorCode.REASON_REQUIRED)
    return _record(session, ticket, actor, DecisionWrites(Action.REJECT), _comment(reason))


def cancel_ticket(session: Session, actor: Actor, ticket_id: int, comment: str = ""
                  ) -> SubmittedTicket:
    """Withdraw a ticket that has not been decided (or that failed)."""
    ticket = _ticket_to_decide(session, ticket_id)
    _require(actor, Action.CANCEL, ticket)
    writes = DecisionWrites(Action.CANCEL, deciders_too=ticket.state in _UNDECIDED)
    return _record(session, ticket, actor, writes, _comment(comment))


#: What a retry resets on the ticket: a fresh count of attempts.
_RETRY_RESETS: dict[str, Any] = {"attempts": 0, "lease_until": None, "last_error": None}
_RETRY = DecisionWrites(Action.RETRY, columns=tuple(_RETRY_RESETS), provisions=True)


def retry_ticket(session: Session, actor: Actor, ticket_id: int, comment: str = ""
                 ) -> SubmittedTicket:
    """Send a failed ticket back to provisioning with a fresh count of attempts."""
    ticket = _ticket_to_decide(session, ticket_id)
    _require(actor, Action.RETRY, ticket)
    return _record(session, ticket, actor, _RETRY, _comment(comment), **_RETRY_RESETS)


def _record(session: Session, ticket: Ticket, actor: Actor, writes: DecisionWrites,
            comment: str, **values: Any) -> SubmittedTicket:
    """Write the decision with everything it promises, commit, and show the ticket back."""
    if on_postgresql(session):
        moved = _write_in_one_statement(session, ticket, actor, writes, comment, values)
    else:
        moved = transition(session, ticket, writes.action, actor.user_id, comment, **values)
        if writes.provisions:
            key = outbox.provision_key(ticket.id, ticket.version)
            outbox.enqueue(session, key, outbox.PROVISION_ACTOR, ticket.id)
        audience = Audience(ticket.id, ticket.requester_id, ticket.branch_id)
        notify(session, audience, moved.event_id, moved.action.value, moved.actor_id,
               writes.deciders_too)
    shown = SubmittedTicket.of(ticket)  # before the commit expires what was loaded
    session.commit()
    logger.info("ticket %s is %s (event %s)", shown.id, moved.state, moved.event_id)
    return shown


def _write_in_one_statement(session: Session, ticket: Ticket, actor: Actor,
                            writes: DecisionWrites, comment: str, values: dict[str, Any]
                            ) -> Moved:
    """`_record`'s writes as one statement, run as a transaction of its own: the ticket was
    read with its version, which the statement compares before it writes anything."""
    now, from_state = utcnow(), Status(ticket.state)
    to_state = next_status(from_state, writes.action)
    event_id = execute_alone(session, decision_statement(writes), prefixed({
        "ticket_id": ticket.id, "from_state": from_state.value, "to_state": to_state.value,
        "version": ticket.version, "actor_id": actor.user_id, "comment": comment,
        "changes": {}, "created_at": now, "requester_id": ticket.requester_id,
        "branch_id": ticket.branch_id,
        "request_id": outbox.request_id_var.get(), **values,
    })).scalar()
    if event_id is None:
        raise Conflict(ErrorCode.TICKET_CHANGED, ticket_id=ticket.id)
    moved = Moved(event_id, writes.action, actor.user_id, to_state, ticket.version + 1, now)
    keep_in_step(ticket, moved, **values)
    if writes.provisions:
        outbox.awaiting_commit(session, outbox.PROVISION_ACTOR, [ticket.id])
    return moved


def _require(actor: Actor, action: Action, ticket: Ticket) -> None:
    """Raise PermissionDenied when the action's guard (the one the pages ask) refuses it."""
    refusal = action_refusal(actor, action, facts_of(ticket))
    if refusal is not None:
        raise PermissionDenied(refusal)


def _comment(text: str | None) -> str:
    """A comment trimmed and checked for length."""
    text = (text or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise RuleViolation.single("comment", ErrorCode.COMMENT_TOO_LONG, max=MAX_COMMENT_LENGTH)
    return text
