"""Deciding on tickets: approve, reject, cancel and retry."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, joinedload

from workflow import outbox
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound, PermissionDenied, RuleViolation
from workflow.domain.machine import Action, Status, sources
from workflow.domain.rules import Actor, TicketFacts, action_refusal, allowed_actions
from workflow.models import Ticket
from workflow.tickets.notifications import Audience, notify
from workflow.tickets.submission import SubmittedTicket
from workflow.tickets.transitions import Moved, transition

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
    """The ticket with what a decision shows back of it, or NotFound."""
    ticket = session.get(Ticket, ticket_id, options=_SHOWN_BACK)
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
    moved = transition(session, ticket, Action.APPROVE, actor.user_id, _comment(comment))
    _promise_provisioning(session, ticket)
    return _commit_with_notice(session, ticket, moved)


def reject_ticket(session: Session, actor: Actor, ticket_id: int, reason: str
                  ) -> SubmittedTicket:
    """Reject a submitted ticket; a reason is required."""
    ticket = _ticket_to_decide(session, ticket_id)
    _require(actor, Action.REJECT, ticket)
    if not reason or not reason.strip():
        raise RuleViolation.single("reason", ErrorCode.REASON_REQUIRED)
    moved = transition(session, ticket, Action.REJECT, actor.user_id, _comment(reason))
    return _commit_with_notice(session, ticket, moved)


def cancel_ticket(session: Session, actor: Actor, ticket_id: int, comment: str = ""
                  ) -> SubmittedTicket:
    """Withdraw a ticket that has not been decided (or that failed)."""
    ticket = _ticket_to_decide(session, ticket_id)
    _require(actor, Action.CANCEL, ticket)
    undecided = ticket.state in _UNDECIDED
    moved = transition(session, ticket, Action.CANCEL, actor.user_id, _comment(comment))
    return _commit_with_notice(session, ticket, moved, deciders_too=undecided)


def retry_ticket(session: Session, actor: Actor, ticket_id: int, comment: str = ""
                 ) -> SubmittedTicket:
    """Send a failed ticket back to provisioning with a fresh count of attempts."""
    ticket = _ticket_to_decide(session, ticket_id)
    _require(actor, Action.RETRY, ticket)
    moved = transition(
        session, ticket, Action.RETRY, actor.user_id, _comment(comment),
        attempts=0, lease_until=None, last_error=None,
    )
    _promise_provisioning(session, ticket)
    return _commit_with_notice(session, ticket, moved)


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


def _promise_provisioning(session: Session, ticket: Ticket) -> None:
    """Record in the outbox that this approval of `ticket` must be provisioned."""
    key = outbox.provision_key(ticket.id, ticket.version)
    outbox.enqueue(session, key, outbox.PROVISION_ACTOR, ticket.id)


def _commit_with_notice(session: Session, ticket: Ticket, moved: Moved,
                        deciders_too: bool = False) -> SubmittedTicket:
    """Promise the notifications of the transition, commit, and show the ticket back."""
    audience = Audience(ticket.id, ticket.requester_id, ticket.branch_id)
    notify(session, audience, moved.event_id, moved.action.value, moved.actor_id, deciders_too)
    shown = SubmittedTicket.of(ticket)  # before the commit expires what was loaded
    session.commit()
    logger.info("ticket %s is %s (event %s)", shown.id, moved.state, moved.event_id)
    return shown
