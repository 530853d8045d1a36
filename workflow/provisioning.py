"""Applying an approved ticket to the phone system, exactly once in effect."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow import outbox
from workflow.errors import Conflict
from workflow.machine import Action, Status
from workflow.models import Agent, Ticket, TicketEvent, utcnow
from workflow.ports import PhoneAccount, PhoneSystem, PhoneSystemError
from workflow.routing import Routing, RoutingType
from workflow.tickets import TicketKind, agent_routing
from workflow.transitions import transition

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


def provision_ticket(
    session: Session,
    ticket_id: int,
    phone_system: Callable[[Session], PhoneSystem],
    settings: ProvisioningSettings,
) -> Outcome:
    """Claim the ticket with a lease, apply it to the phone system, record the outcome."""
    ticket = _claim(session, ticket_id, settings)
    if ticket is None:
        return Outcome.SKIPPED
    claimed_version = ticket.version
    try:
        changes = _apply(session, ticket, phone_system(session))
        event = transition(session, ticket, Action.COMPLETE, None, changes=changes,
                           lease_until=None, last_error=None)
        session.flush()
        outbox.enqueue(session, outbox.notify_key(event.id), outbox.NOTIFY_ACTOR, event.id)
        session.commit()
    except (PhoneSystemError, IntegrityError) as error:
        session.rollback()
        return _record_failure(session, ticket_id, claimed_version, error, settings)
    except Conflict:
        # Our lease ran out and another worker took the ticket over: its result stands.
        session.rollback()
        return Outcome.SKIPPED
    logger.info("ticket %s provisioned (attempt %s)", ticket_id, ticket.attempts)
    return Outcome.PROVISIONED


def _claim(session: Session, ticket_id: int, settings: ProvisioningSettings) -> Ticket | None:
    """Take the ticket (approved, or provisioning past its lease) for this worker, or None."""
    now = utcnow()
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    claimable = or_(
        Ticket.state == Status.APPROVED.value,
        (Ticket.state == Status.PROVISIONING.value) & (Ticket.lease_until < now),
    )
    claimed = {
        "state": Status.PROVISIONING.value, "version": ticket.version + 1, "updated_at": now,
        "attempts": ticket.attempts + 1, "lease_until": now + settings.lease,
    }
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.version == ticket.version, claimable)
        .values(**claimed)
        .execution_options(synchronize_session=False)
    )
    outbox.mark_processed(session, outbox.provision_key(ticket_id, ticket.version))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.commit()
        return None
    if ticket.state == Status.APPROVED.value:
        session.add(TicketEvent(
            ticket_id=ticket_id, actor_id=None, action=Action.START.value,
            from_state=Status.APPROVED.value, to_state=Status.PROVISIONING.value, created_at=now,
        ))
    session.commit()
    for name, value in claimed.items():
        set_committed_value(ticket, name, value)
    return ticket


def _apply(session: Session, ticket: Ticket, phone: PhoneSystem) -> dict[str, Any]:
    """Bring the phone system and the agent row to what `ticket` asks; returns the changes."""
    kind = TicketKind(ticket.kind)
    now = utcnow()
    if kind is TicketKind.NEW:
        assert ticket.extension is not None and ticket.sip_username is not None
        routing = _ticket_routing(ticket) or Routing()
        phone.ensure_account(
            PhoneAccount(ticket.sip_username, ticket.extension, routing), ticket.id
        )
        created = Agent(
            employee_id=ticket.employee_id, extension=ticket.extension,
            sip_username=ticket.sip_username, routing_type=routing.type.value,
            priority_number=routing.priority_number, backup_number=routing.backup_number,
            status="active", created_at=now, updated_at=now,
        )
        session.add(created)
        session.flush()
        ticket.agent_id = created.id
        return {"agent_id": created.id, "sip_username": created.sip_username}
    agent = session.get(Agent, ticket.agent_id)
    assert agent is not None
    if kind is TicketKind.REVOKE:
        phone.remove_account(agent.sip_username, ticket.id)
        agent.status, agent.revoked_at, agent.updated_at = "revoked", now, now
        return {"agent_id": agent.id}
    routing = _ticket_routing(ticket) or agent_routing(agent)
    extension = ticket.extension or agent.extension
    phone.ensure_account(PhoneAccount(agent.sip_username, extension, routing), ticket.id)
    agent.extension = extension
    agent.routing_type = routing.type.value
    agent.priority_number, agent.backup_number = routing.priority_number, routing.backup_number
    agent.updated_at = now
    return {"agent_id": agent.id}


def _ticket_routing(ticket: Ticket) -> Routing | None:
    """The routing a ticket asks for, or None when it keeps the current one."""
    if ticket.routing_type is None:
        return None
    return Routing(RoutingType(ticket.routing_type), ticket.priority_number, ticket.backup_number)


def _record_failure(
    session: Session, ticket_id: int, claimed_version: int, error: Exception,
    settings: ProvisioningSettings,
) -> Outcome:
    """Count the failed attempt: retry after a pause, or give up after the last one."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.version != claimed_version:
        return Outcome.SKIPPED  # another worker took the ticket over meanwhile
    message = _describe(error)
    logger.warning("ticket %s attempt %s failed: %s", ticket_id, ticket.attempts, message)
    if ticket.attempts < settings.max_attempts:
        pause = settings.retry_backoff * (2 ** (ticket.attempts - 1))
        session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.version == claimed_version)
            .values(lease_until=utcnow() + pause, last_error=message)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return Outcome.RETRY_LATER
    event = transition(session, ticket, Action.FAIL, None, comment=message,
                       lease_until=None, last_error=message)
    session.flush()
    outbox.enqueue(session, outbox.notify_key(event.id), outbox.NOTIFY_ACTOR, event.id)
    session.commit()
    return Outcome.FAILED


def _describe(error: Exception) -> str:
    """A short, secret-free description of a failure for the audit trail."""
    if isinstance(error, IntegrityError):
        return "extension or account already taken on the phone system"
    return str(error)[:500] or type(error).__name__
