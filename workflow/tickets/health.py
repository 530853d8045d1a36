"""Operating figures read from the database: what the metrics gauges show at each scrape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.db import utcnow
from workflow.domain.machine import Status
from workflow.models import OutboxMessage, Ticket


@dataclass(frozen=True)
class Health:
    """Counts and ages only: nothing here names a person, an address or an extension."""

    #: Tickets per state, every state present (zero when none).
    tickets_by_state: dict[str, int]
    #: Seconds the oldest ticket has waited for a decision (0 when none waits).
    oldest_pending_approval_seconds: float
    #: Outbox rows not processed yet.
    outbox_backlog: int
    #: Seconds the oldest unprocessed outbox row has waited (0 when none).
    outbox_oldest_seconds: float


def read_health(session: Session, now: datetime | None = None) -> Health:
    """Count tickets by state and measure the approval queue and the outbox, in three queries."""
    now = now or utcnow()
    counts = dict(session.execute(select(Ticket.state, func.count()).group_by(Ticket.state)).all())
    by_state = {status.value: int(counts.get(status.value, 0)) for status in Status}
    oldest_pending = session.scalar(
        select(func.min(Ticket.created_at)).where(Ticket.state == Status.SUBMITTED.value))
    backlog, oldest_message = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.processed_at.is_(None))).one()
    return Health(
        tickets_by_state=by_state,
        oldest_pending_approval_seconds=_age(now, oldest_pending),
        outbox_backlog=int(backlog),
        outbox_oldest_seconds=_age(now, oldest_message),
    )


def _age(now: datetime, then: datetime | None) -> float:
    """Seconds from `then` to `now`, never negative; naive times (SQLite) are UTC."""
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())
