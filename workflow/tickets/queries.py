"""Read-side queries: organisation structure, agents and tickets, with visibility rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.domain.machine import Action, sources
from workflow.domain.rules import Actor, Role, visible_branch_filter
from workflow.models import (
    Agent,
    Branch,
    Department,
    Employee,
    Ticket,
    TicketEvent,
    User,
    is_active,
    state_in,
    ticket_watcher,
)
from workflow.names import by_name, name_contains, name_key
from workflow.paging import (
    Page,
    Position,
    SortKey,
    browse,
    number_key,
    paginate,
    text_key,
    time_key,
)

#: A select of any columns, narrowed or ordered without changing what it selects.
AnySelect = TypeVar("AnySelect", bound=Select)

def list_branches(session: Session) -> Sequence[Branch]:
    """Active branches by name."""
    return by_name(session.scalars(select(Branch).where(Branch.active)).all(),
                   lambda branch: branch.name)


def organisation_structure(session: Session) -> Sequence[tuple[Branch, list[Department]]]:
    """Every branch with its departments, active or not, by name."""
    branches = by_name(session.scalars(select(Branch)).all(), lambda branch: branch.name)
    departments = by_name(session.scalars(select(Department)).all(), lambda d: d.name)
    return [(branch, [d for d in departments if d.branch_id == branch.id]) for branch in branches]


#: The order of people in lists: by given name, then family name; ties by id.
BY_EMPLOYEE_NAME: tuple[SortKey[Employee], ...] = (
    text_key(Employee.sort_name, lambda employee: employee.sort_name),
    number_key(Employee.id, lambda employee: employee.id),
)


def staff_page(session: Session, department_id: int | None, q: str | None,
               position: Position, per_page: int) -> Page[Employee]:
    """Employees (active or not) for administration, by name, with their department."""
    query = select(Employee)
    if department_id:
        query = query.where(Employee.department_id == department_id)
    if q and q.strip():
        query = query.where(or_(name_contains(Employee.search_name, q),
                                Employee.employee_code.ilike(f"%{q.strip()}%")))
    shown = query.options(joinedload(Employee.department).joinedload(Department.branch))
    return browse(session, shown, BY_EMPLOYEE_NAME, position, per_page, query,
                  query.with_only_columns(Employee.id))


def list_departments(session: Session, branch_id: int) -> Sequence[Department]:
    """Active departments of a branch by name."""
    if session.get(Branch, branch_id) is None:
        raise NotFound(ErrorCode.BRANCH_NOT_FOUND, branch_id=branch_id)
    return by_name(session.scalars(
        select(Department).where(Department.branch_id == branch_id, Department.active)
    ).all(), lambda department: department.name)


def list_employees(
    session: Session, department_id: int, q: str | None = None
) -> Sequence[tuple[Employee, Agent | None]]:
    """Active employees of a department with their active agent, if any, by given name.

    `q` narrows to names containing it, with or without diacritics, in any case.
    """
    if session.get(Department, department_id) is None:
        raise NotFound(ErrorCode.DEPARTMENT_NOT_FOUND, department_id=department_id)
    query = (
        select(Employee, Agent)
        .outerjoin(Agent, (Agent.employee_id == Employee.id) & is_active(Agent.status))
        .where(Employee.department_id == department_id, Employee.active)
        .order_by(Employee.sort_name, Employee.id)
    )
    if q and q.strip():
        query = query.where(name_contains(Employee.search_name, q))
    return [(row[0], row[1]) for row in session.execute(query)]


def list_users(session: Session, include_inactive: bool = False) -> Sequence[User]:
    """Users by given name: the active ones (people a ticket can notify), or everyone."""
    query = select(User).options(selectinload(User.branches))
    users = session.scalars(query if include_inactive else query.where(User.active)).all()
    return sorted(users, key=lambda user: name_key(user.full_name))


def get_user(session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, user_id=user_id)
    return user


@dataclass(frozen=True)
class AgentFilter:
    """Filters of the agent list."""

    branch_id: int | None = None
    department_id: int | None = None
    status: str | None = None
    routing_type: str | None = None
    q: str | None = None
    sort: str = "updated"
    #: Only active agents with no device registered now (their SIP username not in
    #: `registered`, the usernames the phone system holds registrations for).
    no_device: bool = False
    registered: frozenset[str] = frozenset()


_NEWEST_AGENT: SortKey[Agent] = number_key(Agent.id, lambda agent: agent.id, descending=True)
#: Orders the agent list offers, by name; ties go to the newest agent.
AGENT_ORDERS: dict[str, tuple[SortKey[Agent], ...]] = {
    "updated": (time_key(Agent.updated_at, lambda agent: agent.updated_at, descending=True),
                _NEWEST_AGENT),
    "name": (text_key(Employee.sort_name, lambda agent: agent.employee.sort_name),
             _NEWEST_AGENT),
    "extension": (text_key(Agent.extension, lambda agent: agent.extension), _NEWEST_AGENT),
}


def list_agents(session: Session, filters: AgentFilter, page: int, per_page: int) -> Page[Agent]:
    """Agents matching `filters` by page number, counted exactly (for the API)."""
    query = _ordered(_filtered(select(Agent), filters), filters).options(_AGENT_ROW)
    return paginate(session, query, page, per_page, select(func.count()).select_from(
        _agent_countable(filters).subquery()))


def browse_agents(session: Session, filters: AgentFilter, position: Position,
                  per_page: int) -> Page[Agent]:
    """The page of agents matching `filters` at `position`, in the order asked for."""
    query = _filtered(select(Agent), filters).options(_AGENT_ROW)
    # Sorted by name, positions need the employees; otherwise the agents' own columns do.
    positions = (_filtered(select(Agent.id), filters) if filters.sort == "name"
                 else _agent_countable(filters))
    return browse(session, query, _agent_order(filters), position, per_page,
                  _agent_countable(filters), positions)


#: What a row of the agent list shows besides the agent: its employee, department, branch.
_AGENT_ROW = contains_eager(Agent.employee).contains_eager(Employee.department).joinedload(
    Department.branch)


def _agent_countable(filters: AgentFilter) -> Select[Any]:
    """The agents of `filters`, as cheaply as they can be counted."""
    # Without a filter on the employee side, the joins change nothing to the count (they
    # follow required foreign keys), and counting agents alone skips joining all of them.
    if filters.branch_id or filters.department_id or filters.q:
        return _filtered(select(Agent.id), filters)
    return _agent_conditions(select(Agent.id), filters)


#: The columns of the agent list's CSV export, in order.
AGENT_EXPORT_COLUMNS = (
    Employee.full_name, Employee.employee_code, Branch.name.label("branch"),
    Department.name.label("department"), Agent.extension, Agent.routing_type,
    Agent.priority_number, Agent.backup_number, Agent.status, Agent.updated_at,
)


def agent_rows(
    session: Session, filters: AgentFilter, chunk: int = 1000
) -> Iterator[Sequence[Any]]:
    """The agents of `filters` as plain rows for export, fetched `chunk` at a time."""
    query = _ordered(_filtered(select(*AGENT_EXPORT_COLUMNS), filters), filters).join(
        Branch, Branch.id == Department.branch_id)
    yield from session.execute(query.execution_options(yield_per=chunk))


def _filtered(query: AnySelect, filters: AgentFilter) -> AnySelect:
    """`query` over agents joined to their employee and department, narrowed by `filters`."""
    query = query.select_from(Agent).join(Employee, Employee.id == Agent.employee_id).join(
        Department, Department.id == Employee.department_id)
    if filters.branch_id:
        query = query.where(Department.branch_id == filters.branch_id)
    if filters.department_id:
        query = query.where(Employee.department_id == filters.department_id)
    if filters.q:
        words = filters.q.strip()
        # Extensions are digits and names never are: searching only the column that can
        # match lets each use its own index (an OR across the two tables can use neither).
        query = query.where(Agent.extension.like(f"%{words}%") if words.isdecimal()
                            else name_contains(Employee.search_name, words))
    return _agent_conditions(query, filters)


def _agent_conditions(query: AnySelect, filters: AgentFilter) -> AnySelect:
    """The filters on the agent row itself."""
    if filters.status:
        query = query.where(Agent.status == filters.status)
    if filters.routing_type:
        query = query.where(Agent.routing_type == filters.routing_type)
    if filters.no_device:
        # A revoked agent has no device by design: the filter finds who cannot be reached.
        query = query.where(is_active(Agent.status))
        if filters.registered:
            query = query.where(Agent.sip_username.not_in(sorted(filters.registered)))
    return query


def _agent_order(filters: AgentFilter) -> tuple[SortKey[Agent], ...]:
    """The order the list asks for (newest change first unless told otherwise)."""
    return AGENT_ORDERS.get(filters.sort, AGENT_ORDERS["updated"])


def _ordered(query: AnySelect, filters: AgentFilter) -> AnySelect:
    """`query` in the order the list asks for."""
    return query.order_by(*(key.ordered() for key in _agent_order(filters)))


def agent_history(session: Session, agent_id: int) -> Sequence[Ticket]:
    """The tickets that shaped an agent account, oldest first."""
    return session.scalars(
        select(Ticket).where(Ticket.agent_id == agent_id).options(*TICKET_OUTPUT)
        .order_by(Ticket.id)
    ).all()


def get_agent(session: Session, agent_id: int) -> Agent:
    """The agent with this id, or NotFound."""
    agent = session.get(Agent, agent_id, options=[
        joinedload(Agent.employee).joinedload(Employee.department).joinedload(Department.branch)
    ])
    if agent is None:
        raise NotFound(ErrorCode.AGENT_NOT_FOUND, agent_id=agent_id)
    return agent


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
