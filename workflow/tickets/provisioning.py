"""Applying an approved ticket to the phone system, exactly once in effect."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.credentials import Vault
from workflow.domain.errors import Conflict
from workflow.domain.machine import Action, source
from workflow.models import Ticket, utcnow
from workflow.ports import PhoneSystem, PhoneSystemError
from workflow.tickets import completion
from workflow.tickets.claims import Claim, claim_batch
from workflow.tickets.kinds import KINDS, kind_of
from workflow.tickets.notifications import notify
from workflow.tickets.transitions import move

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProvisioningSettings:
    """How long a worker holds a ticket, how often it tries, how many it takes at once."""

    #: Keeps the SIP passwords that new accounts and resets issue.
    vault: Vault
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 5
    retry_backoff: timedelta = timedelta(seconds=2)
    #: Most tickets one message takes and completes in one transaction; the composition root
    #: gives 1 to a phone system outside agentdesk's database (each ticket on its own).
    batch: int = 20


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
    """Claim the ticket with a lease, apply it to the phone system, record the outcome.

    With a `settings.batch` above one, the message also takes other approved tickets (up to
    the batch) and completes them all in one transaction.
    """
    # Approved tickets waiting for their own messages come along; those messages then find
    # nothing to claim. The leases are committed first, as for any phone system, so a worker
    # that dies while applying leaves tickets that the sweeper hands on.
    claims = claim_batch(session, ticket_id, settings.batch, settings.lease)
    if not claims:
        return Outcome.SKIPPED
    phone = phone_system(session)
    together = settings.batch > 1
    if together:
        try:
            _complete_together(session, claims, phone, settings.vault)
        except (PhoneSystemError, IntegrityError, Conflict):
            # One bad ticket must not sink the others: each is finished on its own below,
            # which also counts the failed attempt of the bad one.
            session.rollback()
        else:
            logger.info("tickets %s provisioned together", sorted(each.id for each in claims))
            return Outcome.PROVISIONED
    outcomes = [_complete(session, each, phone, settings) for each in claims]
    return outcomes[0]


def _complete_together(
    session: Session, claims: list[Claim], phone: PhoneSystem, vault: Vault
) -> None:
    """Apply every claim, kind by kind, and move them all to provisioned in one transaction."""
    changes: dict[int, dict[str, Any]] = {}
    for kind in KINDS.values():
        # Claims are about different employees (one open ticket each) and ask only for
        # extensions no agent holds, so their order across kinds does not matter.
        same_kind = [each for each in claims if each.kind == kind.code]
        if same_kind:
            changes.update(kind.apply(session, same_kind, phone, vault))
    completion.complete_all(session, claims, changes)
    session.commit()


def _complete(
    session: Session, claim: Claim, phone: PhoneSystem, settings: ProvisioningSettings
) -> Outcome:
    """Apply one claim and move it to provisioned, or count the failed attempt."""
    try:
        changes = _apply(session, claim, phone, settings.vault)
        moved = move(session, claim.id, source(Action.COMPLETE), claim.version, Action.COMPLETE,
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
    logger.info("ticket %s provisioned (attempt %s)", claim.id, claim.attempts)
    return Outcome.PROVISIONED


def _apply(session: Session, claim: Claim, phone: PhoneSystem, vault: Vault) -> dict[str, Any]:
    """Bring the phone system and the agent row to what the ticket asks; returns the changes."""
    return kind_of(claim.kind).apply(session, [claim], phone, vault)[claim.id]


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
        moved = move(session, claim.id, source(Action.FAIL), claim.version, Action.FAIL, None,
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
