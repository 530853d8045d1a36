"""The organisation's extension policy, and which extensions are free."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    bindparam,
    cast,
    exists,
    func,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from workflow.errors import NotFound, Problem, RuleViolation
from workflow.models import (
    Agent,
    Employee,
    Organisation,
    Ticket,
    in_open_state,
    is_active,
    table,
)
from workflow.rules import ExtensionPolicy, extension_problems

#: PostgreSQL advisory lock key serialising automatic extension picks ("adsx").
PICK_LOCK_KEY = 0x61647378


def current_organisation(session: Session) -> Organisation:
    """The organisation this installation serves."""
    organisation = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if organisation is None:
        raise NotFound("organisation_missing")
    return organisation


_agents, _employees, _tickets = table(Agent).c, table(Employee).c, table(Ticket).c
#: The employee holding the extension bound as `extension`, as a scalar subquery.
HOLDER_OF_EXTENSION = (
    select(_employees.full_name)
    .join_from(table(Agent), table(Employee), _agents.employee_id == _employees.id)
    .where(_agents.extension == bindparam("extension"), is_active(_agents.status))
    .limit(1)
    .scalar_subquery()
)
#: The open ticket asking for the extension bound as `extension`, as a scalar subquery.
TICKET_FOR_EXTENSION = (
    select(_tickets.id)
    .where(_tickets.extension == bindparam("extension"), in_open_state(_tickets.state))
    .limit(1)
    .scalar_subquery()
)


def availability_problems(
    extension: str, holder: str | None, ticket_id: int | None
) -> list[Problem]:
    """Why `extension` cannot be requested, given who holds it and which ticket asks for it."""
    if holder is not None:
        return [Problem("extension_taken", {"extension": extension, "holder": holder})]
    if ticket_id is not None:
        return [Problem("extension_pending", {"extension": extension, "ticket_id": ticket_id})]
    return []


def _text(number: ColumnElement[int]) -> ColumnElement[str]:
    """A number as the text of an extension."""
    return cast(number, String)


_HELD_OR_ASKED = (
    select(_agents.extension.label("extension")).where(is_active(_agents.status)),
    select(_tickets.extension).where(in_open_state(_tickets.state)),
)
#: Taken numbers from the bound `low` up, within the policy's length and prefix.
_TAKEN_NUMBERS = union_all(*(
    query.where(func.length(query.selected_columns[0]) == bindparam("length"),
                query.selected_columns[0].between(bindparam("low_text"), bindparam("high_text")))
    for query in _HELD_OR_ASKED
)).subquery()
#: The first free number is `low` itself or right after a taken one.
_CANDIDATES = union_all(
    select(bindparam("low", type_=Integer).label("number")),
    select((cast(_TAKEN_NUMBERS.c.extension, Integer) + 1).label("number")),
).subquery()
_FIRST_FREE = select(func.min(_CANDIDATES.c.number)).where(
    _CANDIDATES.c.number <= bindparam("high", type_=Integer),
    ~exists().where(_agents.extension == _text(_CANDIDATES.c.number),
                    is_active(_agents.status)),
    ~exists().where(_tickets.extension == _text(_CANDIDATES.c.number),
                    in_open_state(_tickets.state)),
)


def suggest_extension(session: Session, policy: ExtensionPolicy) -> str | None:
    """The smallest valid extension nobody holds or has asked for, or None when all are used."""
    low, high = policy.number_range()
    while low <= high:
        number = session.execute(_FIRST_FREE, {
            "low": low, "high": high, "low_text": str(low), "high_text": str(high),
            "length": policy.length,
        }).scalar()
        if number is None:
            return None
        if not extension_problems(policy, str(number)):
            return str(number)
        low = number + 1  # reserved: look further up
    return None


def pick_free_extension(session: Session, policy: ExtensionPolicy) -> str | None:
    """Suggest an extension for a ticket about to be saved, one picker at a time.

    Without the lock, two submissions in flight pick the same smallest free number and
    the second one fails on the unique index; the lock lasts until the transaction ends.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(PICK_LOCK_KEY)))
    return suggest_extension(session, policy)


def update_policy(session: Session, length: int, prefix: str, reserved: list[str]) -> Organisation:
    """Change the extension policy unless it would invalidate active extensions."""
    policy = ExtensionPolicy(length, prefix, frozenset(reserved))
    problems = policy.problems()
    if problems:
        raise RuleViolation({"policy": problems})
    active = session.scalars(select(Agent.extension).where(is_active(Agent.status)))
    broken = sorted(ext for ext in active if extension_problems(policy, ext))
    if broken:
        raise RuleViolation.single("policy", "policy_breaks_extensions", extensions=broken)
    organisation = current_organisation(session)
    organisation.extension_length = length
    organisation.extension_prefix = prefix
    organisation.reserved_extensions = sorted(set(reserved))
    session.commit()
    return organisation
