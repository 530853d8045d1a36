"""Read-side queries of tickets: lists, the approval queue and one ticket, with visibility."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.domain.machine import Action, sources
from workflow.domain.rules import Actor, Role, visible_branch_filter
from workflow.models import (
    Agent,
    Branch,
    Ticket,
    TicketEvent,
    state_in,
    ticket_watcher,
)
from workflow.paging import (
    Page,
    Position,
    SortKey,
    browse,
    number_key,
    paginate,
    time_key,
)

#: What showing a ticket needs, loaded with it rather than one query per attribute.
TICKET_OUTPUT = (
    joinedload(Ticket.employee),
    joinedload(Ticket.requester),
    selectinload(Ticket.watchers),
)


@dataclass(frozen=True)
class TicketFilter:
    """Filters of the ticket list."""

    state: str | None = None
    kind: str | None = None
    branch_id: int | None = None
    mine: bool = False
    #: Created at or after this moment, and strictly before `created_before`.
    created_from: datetime | None = None
    created_before: datetime | None = None


def _visible(query: Select[Ticket], actor: Actor) -> Select[Ticket]:
    """Limit a ticket query to what `actor` may see: own, watched, or in scope."""
    branches = visible_branch_filter(actor)
    if branches is None:
        return query
    watched = select(ticket_watcher.c.ticket_id).where(ticket_watcher.c.user_id == actor.user_id)
    return query.where(or_(
        Ticket.requester_id == actor.user_id,
        Ticket.id.in_(watched),
        Ticket.branch_id.in_(branches),
    ))


def list_tickets(
    session: Session, actor: Actor, filters: TicketFilter, page: int, per_page: int
) -> Page[Ticket]:
    """Tickets visible to `actor` matching `filters`, newest first."""
    query = ticket_query(actor, filters).options(*TICKET_OUTPUT)
    return paginate(session, query, page, per_page)


#: Newest ticket first (ids follow filing time).
NEWEST_TICKET_FIRST: tuple[SortKey[Ticket], ...] = (
    number_key(Ticket.id, lambda ticket: ticket.id, descending=True),)


def browse_tickets(session: Session, actor: Actor, filters: TicketFilter, position: Position,
                   per_page: int) -> Page[Ticket]:
    """The page at `position` of the tickets visible to `actor` matching `filters`."""
    plain = ticket_query(actor, filters)
    return browse(session, plain.options(*TICKET_OUTPUT), NEWEST_TICKET_FIRST, position,
                  per_page, plain, plain.with_only_columns(Ticket.id))


def ticket_query(actor: Actor, filters: TicketFilter) -> Select[Ticket]:
    """The tickets visible to `actor` matching `filters`, newest first, nothing loaded."""
    query = _visible(select(Ticket), actor)
    if filters.state:
        query = query.where(Ticket.state == filters.state)
    if filters.kind:
        query = query.where(Ticket.kind == filters.kind)
    if filters.branch_id:
        query = query.where(Ticket.branch_id == filters.branch_id)
    if filters.mine:
        query = query.where(Ticket.requester_id == actor.user_id)
    if filters.created_from:
        query = query.where(Ticket.created_at >= filters.created_from)
    if filters.created_before:
        query = query.where(Ticket.created_at < filters.created_before)
    return query.order_by(Ticket.id.desc())


def count_tickets(session: Session, actor: Actor, filters: TicketFilter) -> int:
    """How many tickets visible to `actor` match `filters`."""
    query = ticket_query(actor, filters).order_by(None)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def ticket_rows(session: Session, actor: Actor, filters: TicketFilter, chunk: int = 1000
                ) -> Iterator[Ticket]:
    """The tickets of `filters` with their employee and requester, for export, fetched `chunk`
    at a time."""
    query = ticket_query(actor, filters).options(joinedload(Ticket.employee),
                                                 joinedload(Ticket.requester))
    yield from session.scalars(query.execution_options(yield_per=chunk))


def _awaiting(actor: Actor) -> Select[Ticket]:
    """Submitted tickets `actor` may decide: in their scope, never their own."""
    query = select(Ticket).where(state_in(Ticket.state, sources(Action.APPROVE)),
                                 Ticket.requester_id != actor.user_id)
    branches = visible_branch_filter(actor)
    if actor.role not in (Role.APPROVER, Role.ADMIN):
        return query.where(false())
    return query if branches is None else query.where(Ticket.branch_id.in_(branches))


#: The queue's order: the longest waiting first.
OLDEST_TICKET_FIRST: tuple[SortKey[Ticket], ...] = (
    time_key(Ticket.created_at, lambda ticket: ticket.created_at),
    number_key(Ticket.id, lambda ticket: ticket.id))


def approval_queue(
    session: Session, actor: Actor, position: Position, per_page: int,
    kind: str | None = None, branch_id: int | None = None,
) -> Page[Ticket]:
    """The tickets waiting for `actor`'s decision, oldest first, with their submit event."""
    query = _awaiting(actor).options(*TICKET_OUTPUT, selectinload(Ticket.events))
    if kind:
        query = query.where(Ticket.kind == kind)
    if branch_id:
        query = query.where(Ticket.branch_id == branch_id)
    return browse(session, query, OLDEST_TICKET_FIRST, position, per_page)


def count_awaiting_decision(session: Session, actor: Actor) -> int:
    """How many tickets wait for `actor`'s decision."""
    return session.scalar(select(func.count()).select_from(_awaiting(actor).subquery())) or 0


def get_visible_ticket(session: Session, actor: Actor, ticket_id: int) -> Ticket:
    """A ticket with its timeline, if `actor` may see it; NotFound otherwise."""
    query = _visible(select(Ticket).where(Ticket.id == ticket_id), actor).options(
        *TICKET_OUTPUT, selectinload(Ticket.events).joinedload(TicketEvent.actor)
    )
    ticket = session.scalar(query)
    if ticket is None:
        raise NotFound(ErrorCode.TICKET_NOT_FOUND, ticket_id=ticket_id)
    return ticket


@dataclass(frozen=True)
class TicketDetail:
    """A visible ticket with what its page shows beside it."""

    ticket: Ticket
    branch: Branch | None
    #: The agent a revoke or change acts on (None until a new agent exists).
    agent: Agent | None


def get_ticket_detail(session: Session, actor: Actor, ticket_id: int) -> TicketDetail:
    """A ticket as its page shows it, if `actor` may see it; NotFound otherwise."""
    ticket = get_visible_ticket(session, actor, ticket_id)
    agent = session.get(Agent, ticket.agent_id) if ticket.agent_id else None
    return TicketDetail(ticket, session.get(Branch, ticket.branch_id), agent)
