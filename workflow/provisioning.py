"""Applying an approved ticket to the phone system, exactly once in effect."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow import outbox
from workflow.errors import Conflict
from workflow.machine import Action, Status
from workflow.models import Agent, Ticket, TicketEvent, utcnow
from workflow.notifications import Audience, notify
from workflow.ports import PhoneAccount, PhoneSystem, PhoneSystemError
from workflow.routing import Routing, RoutingType
from workflow.tickets import TicketKind
from workflow.transitions import move

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProvisioningSettings:
    """How long a worker holds a ticket and how often it tries."""

    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 5
    retry_backoff: timedelta = timedelta(seconds=2)


class Outcome(StrEnum):
    """What one provisioning run did."""

    SKIPPED = "skipped"
    PROVISIONED = "provisioned"
    RETRY_LATER = "retry_later"
    FAILED = "failed"


@dataclass(frozen=True)
class Claim:
    """A ticket this worker holds under lease, with what it asks for."""

    id: int
    kind: str
    version: int
    attempts: int
    employee_id: int
    agent_id: int | None
    extension: str | None
    routing_type: str | None
    priority_number: str | None
    backup_number: str | None
    sip_username: str | None
    requester_id: int
    branch_id: int

    @property
    def audience(self) -> Audience:
        """Who hears about this ticket."""
        return Audience(self.id, self.requester_id, self.branch_id)

    @property
    def routing(self) -> Routing | None:
        """The routing the ticket asks for, or None when it keeps the current one."""
        if self.routing_type is None:
            return None
        return Routing(RoutingType(self.routing_type), self.priority_number, self.backup_number)


def provision_ticket(
    session: Session,
    ticket_id: int,
    phone_system: Callable[[Session], PhoneSystem],
    settings: ProvisioningSettings,
) -> Outcome:
    """Claim the ticket with a lease, apply it to the phone system, record the outcome."""
    claim = _claim(session, ticket_id, settings)
    if claim is None:
        return Outcome.SKIPPED
    try:
        changes = _apply(session, claim, phone_system(session))
        moved = move(session, claim.id, Status.PROVISIONING, claim.version, Action.COMPLETE,
                     None, changes=changes, lease_until=None, last_error=None,
                     agent_id=changes["agent_id"])
        notify(session, claim.audience, moved.event_id, moved.action.value, None)
        session.commit()
    except (PhoneSystemError, IntegrityError) as error:
        session.rollback()
        return _record_failure(session, claim, error, settings)
    except Conflict:
        # Our lease ran out and another worker took the ticket over: its result stands.
        session.rollback()
        return Outcome.SKIPPED
    logger.info("ticket %s provisioned (attempt %s)", ticket_id, claim.attempts)
    return Outcome.PROVISIONED


def _claim(session: Session, ticket_id: int, settings: ProvisioningSettings) -> Claim | None:
    """Take the ticket (approved, or provisioning past its lease) for this worker, or None."""
    now = utcnow()
    claimable = or_(
        Ticket.state == Status.APPROVED.value,
        (Ticket.state == Status.PROVISIONING.value) & (Ticket.lease_until < now),
    )
    row = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, claimable)
        .values(state=Status.PROVISIONING.value, version=Ticket.version + 1, updated_at=now,
                attempts=Ticket.attempts + 1, lease_until=now + settings.lease)
        .returning(Ticket.id, Ticket.kind, Ticket.version, Ticket.attempts, Ticket.employee_id,
                   Ticket.agent_id, Ticket.extension, Ticket.routing_type,
                   Ticket.priority_number, Ticket.backup_number, Ticket.sip_username,
                   Ticket.requester_id, Ticket.branch_id)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        session.rollback()
        return None
    claim = Claim(**row._mapping)
    if claim.attempts == 1:
        # Approval and retry reset the attempts, so this is the start after a decision.
        outbox.mark_processed(session, outbox.provision_key(ticket_id, claim.version - 1))
        session.execute(insert(TicketEvent).values(
            ticket_id=ticket_id, actor_id=None, action=Action.START.value,
            from_state=Status.APPROVED.value, to_state=Status.PROVISIONING.value,
            comment="", changes={}, created_at=now,
        ))
    session.commit()
    return claim


def _apply(session: Session, claim: Claim, phone: PhoneSystem) -> dict[str, Any]:
    """Bring the phone system and the agent row to what the ticket asks; returns the changes."""
    now = utcnow()
    if claim.kind == TicketKind.NEW:
        assert claim.extension is not None and claim.sip_username is not None
        routing = claim.routing or Routing()
        phone.ensure_account(PhoneAccount(claim.sip_username, claim.extension, routing), claim.id)
        agent_id = session.execute(insert(Agent).values(
            employee_id=claim.employee_id, extension=claim.extension,
            sip_username=claim.sip_username, routing_type=routing.type.value,
            priority_number=routing.priority_number, backup_number=routing.backup_number,
            status="active", created_at=now, updated_at=now,
        ).returning(Agent.id)).scalar_one()
        return {"agent_id": agent_id, "sip_username": claim.sip_username}
    agent = session.execute(
        select(Agent.sip_username, Agent.extension, Agent.routing_type, Agent.priority_number,
               Agent.backup_number).where(Agent.id == claim.agent_id)
    ).one()
    if claim.kind == TicketKind.REVOKE:
        phone.remove_account(agent.sip_username, claim.id)
        values: dict[str, Any] = {"status": "revoked", "revoked_at": now}
    else:
        current = Routing(RoutingType(agent.routing_type), agent.priority_number,
                          agent.backup_number)
        routing = claim.routing or current
        extension = claim.extension or agent.extension
        phone.ensure_account(PhoneAccount(agent.sip_username, extension, routing), claim.id)
        values = {"extension": extension, "routing_type": routing.type.value,
                  "priority_number": routing.priority_number,
                  "backup_number": routing.backup_number}
    session.execute(update(Agent).where(Agent.id == claim.agent_id)
                    .values(updated_at=now, **values))
    return {"agent_id": claim.agent_id}


def _record_failure(
    session: Session, claim: Claim, error: Exception, settings: ProvisioningSettings
) -> Outcome:
    """Count the failed attempt: retry after a pause, or give up after the last one."""
    message = _describe(error)
    logger.warning("ticket %s attempt %s failed: %s", claim.id, claim.attempts, message)
    if claim.attempts < settings.max_attempts:
        pause = settings.retry_backoff * (2 ** (claim.attempts - 1))
        session.execute(
            update(Ticket)
            .where(Ticket.id == claim.id, Ticket.version == claim.version)
            .values(lease_until=utcnow() + pause, last_error=message)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return Outcome.RETRY_LATER
    try:
        moved = move(session, claim.id, Status.PROVISIONING, claim.version, Action.FAIL, None,
                     comment=message, lease_until=None, last_error=message)
    except Conflict:
        session.rollback()
        return Outcome.SKIPPED  # another worker took the ticket over meanwhile
    notify(session, claim.audience, moved.event_id, moved.action.value, None)
    session.commit()
    return Outcome.FAILED


def _describe(error: Exception) -> str:
    """A short, secret-free description of a failure for the audit trail."""
    if isinstance(error, IntegrityError):
        return "extension or account already taken on the phone system"
    return str(error)[:500] or type(error).__name__
