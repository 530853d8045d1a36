"""Open tickets follow their employee to another branch, and so does the right to decide them.

A ticket is decided by the approvers of its branch (`Ticket.branch_id`, set when it is
filed). When its employee moves to a department of another branch (edited by hand or by an
import), or their department moves, the open tickets move with them in the same
transaction: the new branch's approvers decide them, the old one's no longer can. Each move
is a line of the ticket's timeline, and the new branch's approvers are told of the tickets
waiting for them. Closed tickets keep the branch they were decided in: that is history.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from workflow.domain.machine import MOVE_BRANCH, Action, sources
from workflow.models import Branch, Department, Employee, Ticket, TicketEvent, in_open_state, utcnow
from workflow.tickets.notifications import Audience, notify_all

#: States in which the branch's approvers act on a ticket (decide it, retry it). A move
#: raises their version, so a decision read under the old branch fails its compare-and-set;
#: approved and provisioning tickets keep theirs, which the workers' claims compare.
DECIDED_BY_BRANCH = frozenset(
    state.value for action in (Action.APPROVE, Action.REJECT, Action.RETRY)
    for state in sources(action)
)
#: States in which a ticket waits for its approvers' decision, so the new ones are told.
_UNDECIDED = frozenset(state.value for state in sources(Action.APPROVE))


@dataclass(frozen=True)
class MovedTicket:
    """A ticket that moved with its employee, and the timeline event saying so."""

    ticket_id: int
    event_id: int
    from_branch_id: int
    to_branch_id: int


def follow_employees(
    session: Session, actor_id: int | None, employee_ids: Collection[int] | None = None
) -> list[MovedTicket]:
    """Move the open tickets of `employee_ids` (None: everyone's) to their employee's branch.

    Pending changes are flushed first, so the employee's new department counts. The caller
    commits, together with the change that moved the employee.
    """
    session.flush()
    stale = (
        select(Ticket.id, Ticket.state, Ticket.requester_id, Ticket.branch_id,
               Department.branch_id.label("to_branch_id"))
        .join(Employee, Employee.id == Ticket.employee_id)
        .join(Department, Department.id == Employee.department_id)
        .where(in_open_state(Ticket.state), Ticket.branch_id != Department.branch_id)
        .order_by(Ticket.id)
        .with_for_update(of=Ticket)  # no decision or claim slips in between (PostgreSQL)
    )
    if employee_ids is not None:
        stale = stale.where(Ticket.employee_id.in_(list(employee_ids)))
    rows = session.execute(stale).all()
    if not rows:
        return []
    branch_ids = {row.branch_id for row in rows} | {row.to_branch_id for row in rows}
    names = {branch_id: name for branch_id, name in session.execute(
        select(Branch.id, Branch.name).where(Branch.id.in_(branch_ids)))}
    now = utcnow()
    moved, waiting = [], []
    for row in rows:
        bump = 1 if row.state in DECIDED_BY_BRANCH else 0
        session.execute(
            update(Ticket).where(Ticket.id == row.id)
            .values(branch_id=row.to_branch_id, version=Ticket.version + bump, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        changes = {"branch": [{"id": row.branch_id, "name": names.get(row.branch_id)},
                              {"id": row.to_branch_id, "name": names.get(row.to_branch_id)}]}
        event_id = session.execute(
            insert(TicketEvent).values(
                ticket_id=row.id, actor_id=actor_id, action=MOVE_BRANCH, from_state=None,
                to_state=row.state, comment="", changes=changes, created_at=now,
            ).returning(TicketEvent.id)
        ).scalar_one()
        moved.append(MovedTicket(row.id, event_id, row.branch_id, row.to_branch_id))
        if row.state in _UNDECIDED:
            waiting.append((Audience(row.id, row.requester_id, row.to_branch_id), event_id))
    if waiting:
        notify_all(session, waiting, MOVE_BRANCH, actor_id)
    # Tickets loaded in this session must not keep showing their old branch and version.
    moved_ids = {each.ticket_id for each in moved}
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Ticket) and loaded.id in moved_ids:
            session.expire(loaded)
    return moved
