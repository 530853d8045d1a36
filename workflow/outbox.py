"""The transactional outbox: pending work recorded in the same commit as the change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Update,
    any_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from workflow.db import constant
from workflow.domain.machine import Action, sources
from workflow.models import OutboxMessage, Ticket, UTCDateTime, state_in, table, utcnow

#: Actor names, shared with the task layer that defines them.
PROVISION_ACTOR = "provision_ticket"

_OUTBOX = table(OutboxMessage)


def _marking_done(key_matches: ColumnElement[bool]) -> Update:
    """The statement marking done the pending rows whose key matches (`now`: when)."""
    return (
        update(_OUTBOX)
        .where(key_matches, _OUTBOX.c.processed_at.is_(None))
        .values(processed_at=bindparam("now", type_=UTCDateTime()))
    )


# Built once: workers mark rows on every claim, and building a statement costs more CPU than
# running it.
_MARK_PROCESSED = _marking_done(_OUTBOX.c.key.in_(bindparam("keys", expanding=True)))


def enqueue(session: Session, key: str, actor_name: str, *args: Any) -> None:
    """Record that `actor_name(*args)` must run once this transaction commits."""
    session.add(OutboxMessage(key=key, actor_name=actor_name, args=list(args)))


def provision_key(ticket_id: int, version: int) -> str:
    """Outbox key of the provisioning promised by one approval of a ticket."""
    return f"provision:{ticket_id}:{version}"


def provision_key_of(ticket_id: ColumnElement[Any], version: ColumnElement[Any]
                     ) -> ColumnElement[str]:
    """`provision_key` in SQL, for a statement that settles the rows of the tickets it takes."""
    return func.concat(constant("provision:"), ticket_id, constant(":"), version)


def marking_processed(keys: Select[Any]) -> Update:
    """The statement marking done the rows whose keys `keys` selects (`now`: when)."""
    # `= ANY(ARRAY(...))`: the keys are computed once, then looked up in the key's index
    # (as an IN subquery, PostgreSQL may compare them with every pending row instead).
    return _marking_done(_OUTBOX.c.key == any_(func.array(keys.scalar_subquery())))


def mark_processed(session: Session, *keys: str) -> None:
    """Mark the outbox rows with these keys done."""
    if keys:
        session.connection().execute(_MARK_PROCESSED, {"keys": list(keys), "now": utcnow()})


def claim_due_messages(
    session: Session, grace: timedelta, limit: int = 200, now: datetime | None = None
) -> Sequence[OutboxMessage]:
    """Pending rows not sent or not done within `grace`, locked for this relay (SKIP LOCKED)."""
    cutoff = (now or utcnow()) - grace
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.processed_at.is_(None),
            func.coalesce(OutboxMessage.last_sent_at, OutboxMessage.created_at) < cutoff,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).all()


def stuck_ticket_ids(session: Session, grace: timedelta, now: datetime | None = None) -> list[int]:
    """Tickets approved but not picked up within `grace`, or provisioning past their lease."""
    now = now or utcnow()
    query = select(Ticket.id).where(
        or_(
            state_in(Ticket.state, sources(Action.START)) & (Ticket.updated_at < now - grace),
            state_in(Ticket.state, sources(Action.RETAKE)) & (Ticket.lease_until < now),
        )
    )
    return list(session.scalars(query.order_by(Ticket.id).limit(500)))
