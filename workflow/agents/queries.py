"""Read-side queries of agent accounts: the filtered, paged and exported list, one agent."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound
from workflow.models import (
    Agent,
    Branch,
    Department,
    Employee,
    Ticket,
    is_active,
)
from workflow.names import name_contains
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
from workflow.tickets.queries import TICKET_OUTPUT

#: A select of any columns, narrowed or ordered without changing what it selects.
AnySelect = TypeVar("AnySelect", bound=Select)


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


