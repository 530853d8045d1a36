"""A decision's writes as one statement (PostgreSQL): the move, its event, the promise of
provisioning, the notices and the retiring of the notices they replace."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, func, select

from workflow import outbox
from workflow.db import binds_prefixed
from workflow.domain.machine import Action
from workflow.tickets.notifications import notice_ctes
from workflow.tickets.transitions import moving


@dataclass(frozen=True)
class DecisionWrites:
    """What a decision writes besides the move and its event."""

    action: Action
    #: Ticket columns the move also sets (bound under their names).
    columns: tuple[str, ...] = ()
    #: Whether it promises the ticket's provisioning (an outbox row).
    provisions: bool = False
    #: Whether the approvers in scope hear of it too (see `notify`).
    deciders_too: bool = False


@cache
def decision_statement(writes: DecisionWrites) -> Select[Any]:
    """The one statement of a decision: its event's id, or no row when the ticket has moved
    since it was read (then nothing is written).

    It binds what `moving`, `notice_ctes` and, when it provisions,
    `outbox.promising_provisioning` name, through `prefixed`. Built once per kind of
    decision: building a statement costs more than running it.
    """
    moved, new_event = moving(writes.action, writes.columns)
    written = list(notice_ctes(new_event, writes.action.value, writes.deciders_too))
    if writes.provisions:
        written.append(outbox.promising_provisioning(moved))
    # SQLAlchemy renders only the CTEs the statement names.
    return binds_prefixed(select(
        new_event.c.id,
        *(select(func.count()).select_from(cte).scalar_subquery() for cte in written)))
