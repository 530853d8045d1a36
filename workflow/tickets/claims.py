"""Taking tickets for provisioning under a lease, with their `start` or `retake` events.

The statements are built once: building SQLAlchemy statements per call costs more CPU than
running them, and prebuilt ones hit the compiled cache directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from workflow import outbox
from workflow.db import constant, execute_alone
from workflow.domain.machine import Action, next_status, source, sources, target
from workflow.domain.routing import Routing, RoutingType
from workflow.models import (
    Ticket,
    TicketEvent,
    UTCDateTime,
    on_postgresql,
    state_in,
    table,
    utcnow,
)
from workflow.tickets.notifications import Audience
from workflow.tickets.transitions import EVENT_COLUMNS

TICKETS = table(Ticket)
EVENTS = table(TicketEvent)


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
    reset_password: bool
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

    @property
    def action(self) -> Action:
        """How this claim moved the ticket: its first attempt starts it, a later one retakes it.

        Approval and retry reset the attempts, so a ticket claimed from approved is at its
        first attempt, and one claimed from provisioning (past its lease) at a later one.
        """
        return Action.START if self.attempts == 1 else Action.RETAKE


_NOW = bindparam("now", type_=UTCDateTime())
_TAKE = {
    "state": target(Action.START, Action.RETAKE).value,
    "version": TICKETS.c.version + 1,
    "updated_at": _NOW,
    "attempts": TICKETS.c.attempts + 1,
    "lease_until": bindparam("lease_until", type_=UTCDateTime()),
}
_RETURNED = [TICKETS.c[name] for name in Claim.__dataclass_fields__]

#: The ticket, if it may start, or be retaken past its lease, and is not being written right
#: now (approved, or provisioning past its lease, as the transition table says).
#: A ticket another worker holds is skipped rather than waited for: that worker commits it
#: (so there is nothing left to do), or rolls back and the relay or the sweeper re-sends.
#: FOR NO KEY UPDATE, the lock of the UPDATE itself: rows merely referenced by uncommitted
#: inserts (events, notices) are not skipped.
_MAY_TAKE = and_(
    TICKETS.c.id == bindparam("ticket_id"),
    or_(
        state_in(TICKETS.c.state, sources(Action.START)),
        and_(state_in(TICKETS.c.state, sources(Action.RETAKE)), TICKETS.c.lease_until < _NOW),
    ),
)
_CLAIMABLE = (
    select(TICKETS.c.id)
    .where(_MAY_TAKE)
    .with_for_update(skip_locked=True, key_share=True)
    .cte("claimable")
)
#: The same test as a plain read, which takes no lock and needs no transaction.
_TAKEABLE = select(literal(1)).where(_MAY_TAKE)
_CLAIM_ONE = (
    update(TICKETS)
    .where(TICKETS.c.id.in_(select(_CLAIMABLE.c.id)))
    .values(_TAKE)
    .returning(*_RETURNED)
)

def _oldest_approved(name: str, limit: str, *also: Any) -> Any:
    """The oldest approved tickets nobody holds, up to the parameter `limit` (SKIP LOCKED on
    PostgreSQL; SQLite has one writer at a time, so the statement is atomic there as it stands).

    A CTE, because PostgreSQL may rescan an IN subquery, and each rescan would lock `limit`
    more rows. The state is written into the SQL so that the prepared statement's generic
    plan knows what it looks for.
    """
    return (
        select(TICKETS.c.id)
        .where(TICKETS.c.state == constant(source(Action.START).value), *also)
        .order_by(TICKETS.c.created_at)
        .limit(bindparam(limit))
        .with_for_update(skip_locked=True, key_share=True)
        .cte(name)
    )


_OLDEST_APPROVED = _oldest_approved("oldest_approved", "limit")
# No second state check: the lock re-checks a row that moved on, and PostgreSQL would scan
# every approved ticket to apply it.
_CLAIM_APPROVED = (
    update(TICKETS)
    .where(TICKETS.c.id.in_(select(_OLDEST_APPROVED.c.id)))
    .values(_TAKE)
    .returning(*_RETURNED)
)

_ADD_EVENTS = insert(EVENTS)


def _claim_batch_in_one_statement() -> Any:
    """The ticket, if it may be taken, and then up to `others` of the oldest approved ones,
    taken with their start or retake events and their settled outbox rows (PostgreSQL).

    Data-modifying CTEs run once, in one snapshot and as one transaction when the statement
    runs alone: the claim commits in a single round trip.
    """
    # None when the ticket itself is not taken: the others then wait for their own messages.
    others = _oldest_approved("others", "others", TICKETS.c.id != bindparam("ticket_id"),
                              exists(select(_CLAIMABLE.c.id)))
    taken = (
        update(TICKETS)
        # One IN list, so that the rows are found by key (an OR of two would scan the table)
        .where(TICKETS.c.id.in_(union_all(select(_CLAIMABLE.c.id), select(others.c.id))))
        .values(_TAKE)
        .returning(*_RETURNED)
        .cte("taken")
    )
    # `Claim.action`: the first attempt starts the ticket, a later one retakes it.
    starts = taken.c.attempts == 1
    start, retake = Action.START, Action.RETAKE
    events = insert(EVENTS).from_select(
        EVENT_COLUMNS,
        select(taken.c.id, cast(null(), Integer),
               case((starts, constant(start.value)), else_=constant(retake.value)),
               case((starts, constant(source(start).value)),
                    else_=constant(source(retake).value)),
               constant(target(start, retake).value), constant(""),
               case((starts, func.json_build_object()),
                    else_=func.json_build_object(constant("attempt"), taken.c.attempts)),
               _NOW),
    ).cte("events")
    settled = outbox.marking_processed(
        select(outbox.provision_key_of(taken.c.id, taken.c.version - 1)).where(starts)
    ).cte("settled")
    return select(*(taken.c[name] for name in Claim.__dataclass_fields__)).add_cte(
        events, settled)


_CLAIM_BATCH = _claim_batch_in_one_statement()


def claim_batch(session: Session, ticket_id: int, size: int, lease: timedelta) -> list[Claim]:
    """Take the ticket and up to `size - 1` other approved tickets under lease, audit each
    attempt, settle the starts' outbox rows, and commit; the ticket's claim comes first.

    Empty when the ticket cannot be taken (done, leased, or being claimed): the others are
    then left to their own messages. PostgreSQL claims in one statement outside any
    transaction, one round trip; other databases in a transaction of several statements.
    """
    now = utcnow()
    if on_postgresql(session):
        # One round trip, which is all a read would cost a message finding its ticket taken.
        result = execute_alone(session, _CLAIM_BATCH, {
            "ticket_id": ticket_id, "others": size - 1, "now": now, "lease_until": now + lease,
        })
        taken = [Claim(*tuple(row)) for row in result]
        session.commit()
        return sorted(taken, key=lambda claim: claim.id != ticket_id)
    # Batched, most messages find their ticket taken with another: a plain read tells them.
    if size > 1 and not may_claim(session, ticket_id):
        return []
    claim = claim_ticket(session, ticket_id, lease)
    if claim is None:
        session.rollback()
        return []
    claims = [claim, *claim_approved(session, size - 1, lease)]
    record_starts(session, claims)
    session.commit()
    return claims


def may_claim(session: Session, ticket_id: int) -> bool:
    """Whether the ticket looks claimable now, read outside any transaction.

    Once one message has taken a batch, the messages of the other tickets find them done:
    this answers them with one read instead of a transaction's three round trips. A ticket
    that looks claimable may still be taken by someone else first; `claim_ticket` decides.
    A session already in a transaction, or bound to a connection, gets True: its claim reads
    in it.
    """
    bind = session.get_bind()
    if session.in_transaction() or not isinstance(bind, Engine):
        return True
    # A connection of the session's pool, for this read alone: the claim takes the next one.
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(
            _TAKEABLE, {"ticket_id": ticket_id, "now": utcnow()}).first() is not None


def claim_ticket(session: Session, ticket_id: int, lease: timedelta) -> Claim | None:
    """Take the ticket under lease; None if done, leased, or being claimed by another worker."""
    now = utcnow()
    row = session.connection().execute(
        _CLAIM_ONE, {"ticket_id": ticket_id, "now": now, "lease_until": now + lease}
    ).first()
    return None if row is None else Claim(*row)


def claim_approved(session: Session, limit: int, lease: timedelta) -> list[Claim]:
    """Take up to `limit` of the oldest approved tickets that no other worker is taking."""
    if limit < 1:
        return []
    now = utcnow()
    rows = session.connection().execute(
        _CLAIM_APPROVED, {"limit": limit, "now": now, "lease_until": now + lease}
    )
    return [Claim(*row) for row in rows]


def record_starts(session: Session, claims: Sequence[Claim]) -> None:
    """Audit each claimed attempt (a start or a retake) and settle the starts' outbox rows."""
    if not claims:
        return
    starting = [claim for claim in claims if claim.action is Action.START]
    if starting:
        outbox.mark_processed(session, *(outbox.provision_key(claim.id, claim.version - 1)
                                         for claim in starting))
    now = utcnow()
    session.connection().execute(_ADD_EVENTS, [
        event_row(claim.id, claim.action, now,
                  None if claim.action is Action.START else {"attempt": claim.attempts})
        for claim in claims
    ])


def event_row(
    ticket_id: int, action: Action, at: datetime, changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The row of one worker event (no actor) in a ticket's audit trail."""
    from_state = source(action)
    return {"ticket_id": ticket_id, "actor_id": None, "action": action.value,
            "from_state": from_state.value, "to_state": next_status(from_state, action).value,
            "comment": "", "changes": changes or {}, "created_at": at}
