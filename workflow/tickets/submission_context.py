"""Everything a submission checks, read in one round trip."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflow.db import execute_alone
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import RuleViolation
from workflow.domain.rules import ExtensionPolicy
from workflow.models import (
    Agent,
    Branch,
    Department,
    Employee,
    Organisation,
    Ticket,
    User,
    in_open_state,
    is_active,
    on_postgresql,
    table,
)
from workflow.tickets.extensions import HOLDER_OF_EXTENSION, PICK_LOCK, TICKET_FOR_EXTENSION


class Pick(Enum):
    """How a submission that asks for no extension gets one."""

    #: The plan picks it, taking the pick lock itself (PostgreSQL).
    NOW = "now"
    #: The plan picks it under the pick lock the context read took.
    LOCKED = "locked"
    #: The filing statement picks it (PostgreSQL: `filing.file_with_next_extension`).
    AT_FILING = "at_filing"


@dataclass(frozen=True)
class SubmissionContext:
    """What a submission needs to know, read in one round trip."""

    employee_id: int
    employee_name: str
    branch_id: int
    agent_id: int | None
    agent_extension: str | None
    agent_routing_type: str | None
    agent_priority_number: str | None
    agent_backup_number: str | None
    open_ticket_id: int | None
    extension_length: int
    extension_prefix: str
    reserved_extensions: list[str]
    requester_name: str
    requester_email: str
    extension_holder: str | None
    extension_ticket_id: int | None
    #: How an extension to be picked is picked.
    pick: Pick = Pick.NOW

    @property
    def agent(self) -> Agent | None:
        """The employee's active agent account, as far as the rules need it."""
        if self.agent_id is None:
            return None
        assert self.agent_extension is not None and self.agent_routing_type is not None
        return Agent(id=self.agent_id, extension=self.agent_extension,
                     routing_type=self.agent_routing_type,
                     priority_number=self.agent_priority_number,
                     backup_number=self.agent_backup_number)

    @property
    def policy(self) -> ExtensionPolicy:
        """The extension policy of the employee's organisation."""
        return ExtensionPolicy(self.extension_length, self.extension_prefix,
                               frozenset(self.reserved_extensions))


_employees, _departments, _branches = (
    table(Employee).c, table(Department).c, table(Branch).c
)
_agents, _tickets, _users = table(Agent).c, table(Ticket).c, table(User).c
_organisations = table(Organisation).c


def _requester(column: Any) -> Any:
    """A column of the submitting user, as a scalar subquery."""
    return select(column).where(_users.id == bindparam("requester_id")).scalar_subquery()


_SUBMISSION_CONTEXT = (
    select(
        _employees.id.label("employee_id"), _employees.full_name.label("employee_name"),
        _departments.branch_id, _agents.id.label("agent_id"),
        _agents.extension.label("agent_extension"),
        _agents.routing_type.label("agent_routing_type"),
        _agents.priority_number.label("agent_priority_number"),
        _agents.backup_number.label("agent_backup_number"),
        select(_tickets.id)
        .where(_tickets.employee_id == _employees.id, in_open_state(_tickets.state))
        .limit(1).scalar_subquery().label("open_ticket_id"),
        _organisations.extension_length, _organisations.extension_prefix,
        _organisations.reserved_extensions,
        _requester(_users.full_name).label("requester_name"),
        _requester(_users.email).label("requester_email"),
        HOLDER_OF_EXTENSION.label("extension_holder"),
        TICKET_FOR_EXTENSION.label("extension_ticket_id"),
    )
    .join_from(table(Employee), table(Department),
               _departments.id == _employees.department_id)
    .join(table(Branch), _branches.id == _departments.branch_id)
    .join(table(Organisation), _organisations.id == _branches.organisation_id)
    .outerjoin(table(Agent), (_agents.employee_id == _employees.id)
               & is_active(_agents.status))
    .where(_employees.id == bindparam("employee_id"), _employees.active)
)
#: The same, also taking the pick lock: one round trip less for a submission that picks.
_SUBMISSION_CONTEXT_AND_PICK_LOCK = _SUBMISSION_CONTEXT.add_columns(PICK_LOCK.label("locked"))


def read_submission_context(
    session: Session, employee_id: int, requester_id: int, extension: str | None,
    pick: Pick = Pick.NOW,
) -> SubmissionContext:
    """The employee with their branch, agent, open ticket and policy; who has `extension`.

    For `Pick.LOCKED` it also takes `PICK_LOCK` (PostgreSQL; elsewhere the plan picks now).
    The result says how the plan is to pick.
    """
    locking = pick is Pick.LOCKED and on_postgresql(session)
    params = {"employee_id": employee_id, "requester_id": requester_id, "extension": extension}
    if locking:  # the lock lasts until the commit: this read opens the transaction
        row = session.execute(_SUBMISSION_CONTEXT_AND_PICK_LOCK, params).first()
    else:  # a plain read: it need not open a transaction (no BEGIN round trip)
        row = execute_alone(session, _SUBMISSION_CONTEXT, params).first()
    if row is None:
        raise RuleViolation.single("employee_id", ErrorCode.EMPLOYEE_UNKNOWN)
    values = dict(row._mapping)
    values.pop("locked", None)
    return SubmissionContext(**values, pick=Pick.NOW if pick is Pick.LOCKED and not locking
                             else pick)
