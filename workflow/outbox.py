"""The transactional outbox: pending work recorded in the same commit as the change."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    String,
    Update,
    any_,
    bindparam,
    func,
    insert,
    literal,
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

#: The id of the web request whose work is being done, if any: an outbox row keeps it.
request_id_var: ContextVar[str | None] = ContextVar("agentdesk_request_id", default=None)
#: Key in `Session.info` where the messages of new outbox rows wait for the commit that
#: lets them be sent: (actor name, args, request id).
PENDING = "agentdesk.outbox"

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


def promising_provisioning(moved: CTE) -> CTE:
    """The outbox row promising to provision the ticket that `moved` (a CTE returning its
    `id` and new `version`) approved, for a statement that writes it alongside (PostgreSQL).

    The statement binds `created_at` and `request_id`; the caller then hands the message
    to `awaiting_commit`.
    """
    rows = select(
        provision_key_of(moved.c.id, moved.c.version), constant(PROVISION_ACTOR),
        func.json_build_array(moved.c.id), bindparam("created_at", type_=UTCDateTime()),
        literal(0), bindparam("request_id", type_=String),
    )
    return (
        insert(_OUTBOX)
        .from_select(["key", "actor_name", "args", "created_at", "send_count", "request_id"],
                     rows)
        .returning(_OUTBOX.c.id)
        .cte("promised")
    )


def awaiting_commit(session: Session, actor_name: str, args: list[Any]) -> None:
    """Send `actor_name(*args)` once the session's transaction commits (its outbox row was
    written by a statement of its own, not through the session)."""
    session.info.setdefault(PENDING, []).append((actor_name, args, request_id_var.get()))


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
