"""The organisation's extension policy, and which extensions are free."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    false,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from workflow.db import constant_number
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import Problem
from workflow.domain.rules import ExtensionPolicy, clean_extension, extension_problems
from workflow.models import (
    Agent,
    Employee,
    Ticket,
    current_organisation,
    in_open_state,
    is_active,
    on_postgresql,
    table,
)

#: PostgreSQL advisory lock key of automatic extension picks ("adsx"): a pick that reads
#: the whole range (`pick_free_extension`) holds it alone, filings that pick above the
#: highest number hold it shared.
PICK_LOCK_KEY = 0x61647378
#: Takes the pick lock (PostgreSQL), held until the transaction ends.
PICK_LOCK = func.pg_advisory_xact_lock(constant_number(PICK_LOCK_KEY))
_TAKE_PICK_LOCK = select(PICK_LOCK)
#: Takes the pick lock shared, held until the transaction ends: waits only for a whole-range pick.
_PICK_LOCK_SHARED = func.pg_advisory_xact_lock_shared(constant_number(PICK_LOCK_KEY))
#: Class of the two-key advisory locks on single numbers ("adxn"; the one-key space of
#: `PICK_LOCK_KEY` is another): a filing holds the lock of the number it takes until it
#: commits, so filings running at once take different numbers rather than the same one.
NUMBER_LOCK_CLASS = 0x6164786E
#: How many numbers above the first free one a filing tries when others hold theirs.
PICK_SPREAD = 16
#: 1 in the SQL text of the statements that pick (`constant_number`).
ONE = constant_number(1)
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
        return [Problem(ErrorCode.EXTENSION_TAKEN, {"extension": extension, "holder": holder})]
    if ticket_id is not None:
        params = {"extension": extension, "ticket_id": ticket_id}
        return [Problem(ErrorCode.EXTENSION_PENDING, params)]
    return []


_WHO_HAS = select(HOLDER_OF_EXTENSION.label("holder"), TICKET_FOR_EXTENSION.label("ticket_id"))


def extension_problems_now(session: Session, extension: str) -> list[Problem]:
    """Everything that stops `extension` being requested now: the policy, then who has it."""
    extension = clean_extension(extension)
    found = extension_problems(current_organisation(session).policy, extension)
    if found:
        return found
    holder, ticket_id = session.execute(_WHO_HAS, {"extension": extension}).one()
    return availability_problems(extension, holder, ticket_id)


_HELD_OR_ASKED = (
    select(_agents.extension.label("extension")).where(is_active(_agents.status)),
    select(_tickets.extension).where(in_open_state(_tickets.state)),
)
#: Taken extensions from the bound `low_text` to `high_text`, all of the policy's length:
#: text order is number order, so the partial indexes on extension deliver them sorted.
_TAKEN_IN_RANGE = [
    query.where(func.length(query.selected_columns[0]) == bindparam("length", type_=Integer),
                query.selected_columns[0].between(bindparam("low_text", type_=String),
                                                  bindparam("high_text", type_=String)))
    for query in _HELD_OR_ASKED
]
#: The highest taken extension of each source: a backward index scan stopping at the first.
_HIGHEST = [query.order_by(query.selected_columns[0].desc()).limit(ONE).scalar_subquery()
            for query in _TAKEN_IN_RANGE]
_HIGHEST_TAKEN = select(*_HIGHEST)
_ABOVE_HIGHEST = select(
    func.coalesce(cast(func.greatest(*_HIGHEST), Integer) + ONE,
                  bindparam("low", type_=Integer)).label("number"),
    # Nothing is filed here while a whole-range pick runs. This statement read the highest
    # number before it got the lock: a number filed meanwhile is a conflict, and the caller
    # tries again.
    _PICK_LOCK_SHARED.label("locked"),
).cte("top")
_RESERVED = bindparam("reserved", type_=ARRAY(String))
_SPAN = func.generate_series(
    _ABOVE_HIGHEST.c.number,
    func.least(_ABOVE_HIGHEST.c.number + func.cardinality(_RESERVED)
               + constant_number(PICK_SPREAD),
               bindparam("high", type_=Integer)),
).table_valued("number").render_derived(name="span")
#: A number of the span that is not reserved and whose lock this transaction got: one
#: condition, so a reserved number is never locked.
_TAKES_NUMBER = case(
    (cast(_SPAN.c.number, String) == any_(_RESERVED), false()),
    else_=func.pg_try_advisory_xact_lock(constant_number(NUMBER_LOCK_CLASS), _SPAN.c.number),
)
#: What `suggest_extension` picks first, as one row of a `number` column (PostgreSQL): the
#: first number above the highest in use that is neither reserved nor being filed by
#: another transaction, whose number lock it takes; NULL once the top is reached, or when
#: other filings hold every number of the span. The series is scanned in order and the scan
#: stops at the first number taken, so no other number is locked. It takes the pick lock
#: shared. Its parameters: `next_free_params`.
NEXT_ABOVE_HIGHEST = select(
    select(_SPAN.c.number)
    .select_from(_ABOVE_HIGHEST.join(_SPAN, true()))  # the series reads the row before it
    .where(_TAKES_NUMBER)
    .limit(ONE)
    .scalar_subquery()
    .label("number")
)
_TAKEN = union_all(*_TAKEN_IN_RANGE).subquery()
_NEIGHBOURS = select(
    _TAKEN.c.extension,
    func.lag(_TAKEN.c.extension).over(order_by=_TAKEN.c.extension).label("previous"),
    func.lead(_TAKEN.c.extension).over(order_by=_TAKEN.c.extension).label("following"),
).subquery()
_LOW_IS_FREE = and_(_NEIGHBOURS.c.previous.is_(None),
                    _NEIGHBOURS.c.extension > bindparam("low_text", type_=String))
#: The first taken extension with a gap before it (only `low` can be) or after it.
_FIRST_GAP = (
    select(_NEIGHBOURS.c.extension, _LOW_IS_FREE.label("low_is_free"))
    .where(or_(
        _LOW_IS_FREE,
        _NEIGHBOURS.c.following.is_(None),
        cast(_NEIGHBOURS.c.following, Integer) > cast(_NEIGHBOURS.c.extension, Integer) + 1,
    ))
    .order_by(_NEIGHBOURS.c.extension)
    .limit(1)
)


def _smallest_free_number(session: Session, low: int, high: int, length: int) -> int | None:
    """The smallest number from `low` to `high` that nobody holds or has asked for."""
    gap = session.execute(_FIRST_GAP, _range(low, high, length)).first()
    if gap is None or gap.low_is_free:
        return low
    number = int(gap.extension) + 1
    return number if number <= high else None


def _range(low: int, high: int, length: int) -> dict[str, Any]:
    """The parameters of the taken-extension queries."""
    return {"low_text": str(low), "high_text": str(high), "length": length}


def next_free_params(policy: ExtensionPolicy) -> dict[str, Any]:
    """The parameters of `NEXT_ABOVE_HIGHEST` under `policy`."""
    low, high = policy.number_range()
    return {**_range(low, high, policy.length), "low": low, "high": high,
            "reserved": sorted(policy.reserved)}


def suggest_extension(session: Session, policy: ExtensionPolicy) -> str | None:
    """The next free valid extension, or None when all are used.

    Numbers are handed out upwards, after the highest one in use, so a number given back
    is not passed to someone else at once (callers may still dial it); once the top of the
    range is reached, the smallest free number is used.
    """
    low, high = policy.number_range()
    highest = [found for found in session.execute(
        _HIGHEST_TAKEN, _range(low, high, policy.length)).one() if found is not None]
    # Same-length digit strings: the greatest string is the greatest number.
    number = int(max(highest)) + 1 if highest else low
    while number <= high:  # everything above the highest taken number is free
        if not extension_problems(policy, str(number)):
            return str(number)
        number += 1  # reserved
    while (free := _smallest_free_number(session, low, high, policy.length)) is not None:
        if not extension_problems(policy, str(free)):
            return str(free)
        low = free + 1  # reserved: look further up
    return None


def pick_free_extension(
    session: Session, policy: ExtensionPolicy, locked: bool = False
) -> str | None:
    """Suggest an extension for a ticket about to be saved, one picker at a time.

    Without the lock, two submissions in flight pick the same free number and the second
    one fails on the unique index; `locked` says the caller already holds `PICK_LOCK`.
    """
    if not locked and on_postgresql(session):
        session.execute(_TAKE_PICK_LOCK)
    return suggest_extension(session, policy)


