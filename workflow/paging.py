"""Pages of long lists: the next and previous pages found by keyset, counts bounded.

Skipping rows with OFFSET costs in proportion to the depth of the page (page 500 of 50,000
agents reads and throws away 24,950 joined rows); seeking past the last row shown costs the
same on every page. So the pages' links carry the sort values of the row they continue from
(a *cursor*), and a page asked for by number alone (a typed address, an old link) falls back
to OFFSET. Counting every match costs in proportion to the list too; pages count up to
`COUNT_CAP` and say "more than" beyond it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")
#: A column to sort by: a mapped attribute or any column expression.
Column = ColumnElement[Any] | InstrumentedAttribute[Any]

#: Largest page a caller may ask for.
MAX_PER_PAGE = 200
#: Lists count their rows up to this many; past it they say "more than". Small enough that
#: the database counts the first matches it meets rather than gathering them all.
COUNT_CAP = 1_000
#: Longest cursor accepted (a sort key holds at most a few hundred characters).
MAX_CURSOR_LENGTH = 2_000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results with the number of rows in all (or `COUNT_CAP`, if more)."""

    items: Sequence[T]
    total: int
    page: int
    per_page: int
    #: Whether `total` is every row, rather than the cap of a longer list.
    total_is_exact: bool = True
    #: Whether a page follows this one.
    more: bool = False
    #: Where the next and previous pages start, for their links (None: by number).
    next_cursor: str | None = None
    previous_cursor: str | None = None

    @property
    def pages(self) -> int:
        """How many pages there are in all (as far as counted)."""
        counted = max(1, -(-self.total // self.per_page))
        return counted if self.total_is_exact else max(counted, self.page + int(self.more))

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.more or self.page < self.pages


@dataclass(frozen=True)
class SortKey(Generic[T]):
    """One column of a list's order: how to sort by it and read it back off a shown row."""

    column: Column
    descending: bool
    read: Callable[[T], Any]
    #: Turns the value back from its JSON form (str, int, datetime.fromisoformat).
    parse: Callable[[Any], Any]

    def ordered(self, reverse: bool = False) -> ColumnElement[Any]:
        """The ORDER BY term, or its opposite when walking backwards."""
        return self.column.desc() if self.descending != reverse else self.column.asc()


def text_key(column: Column, read: Callable[[T], str],
             descending: bool = False) -> SortKey[T]:
    """A sort key over a text column."""
    return SortKey(column, descending, read, _text)


def number_key(column: Column, read: Callable[[T], int],
               descending: bool = False) -> SortKey[T]:
    """A sort key over an integer column."""
    return SortKey(column, descending, read, _integer)


def time_key(column: Column, read: Callable[[T], datetime],
             descending: bool = False) -> SortKey[T]:
    """A sort key over a timestamp column."""
    return SortKey(column, descending, lambda row: read(row).isoformat(), _timestamp)


@dataclass(frozen=True)
class Position:
    """Where a page starts: its number, and the cursor of the link that led to it, if any."""

    page: int = 1
    after: str | None = None
    before: str | None = None


def paginate(session: Session, query: Select[Any], page: int, per_page: int,
             count: Select[Any] | None = None) -> Page[Any]:
    """One page of `query` by OFFSET, with an exact count (`count`, when it is cheaper)."""
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    if count is None:
        count = select(func.count()).select_from(query.order_by(None).subquery())
    total = session.scalar(count) or 0
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items, total, page, per_page, more=page * per_page < total)


def browse(session: Session, query: Select[Any], keys: Sequence[SortKey[Any]],
           position: Position, per_page: int, countable: Select[Any] | None = None,
           positions: Select[Any] | None = None) -> Page[Any]:
    """The page of `query` at `position`, ordered by `keys`; rows counted up to the cap.

    The last key is the rows' identity. `countable` selects the same rows as `query` more
    cheaply, if it can (its rows are counted, not its values); `positions` selects their
    identities alone and can be ordered by `keys`: a page asked for by number skips rows
    there, before the full rows of that page are read.
    """
    page, per_page = max(1, position.page), min(max(1, per_page), MAX_PER_PAGE)
    after, before = _decode(position.after, keys), _decode(position.before, keys)
    backwards = after is None and before is not None
    cursor = after if after is not None else before
    ordered = query.order_by(None).order_by(*(key.ordered(backwards) for key in keys))
    if cursor is None and page > 1 and positions is not None:
        identity = keys[-1].column
        window = positions.order_by(None).order_by(*(key.ordered() for key in keys)).offset(
            (page - 1) * per_page).limit(per_page + 1).subquery()
        ordered = ordered.where(identity.in_(select(window.c[0])))
    elif cursor is None:
        ordered = ordered.offset((page - 1) * per_page)
    else:
        ordered = ordered.where(_beyond(keys, cursor, backwards))
    rows = list(session.scalars(ordered.limit(per_page + 1)).all())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
        # Walking back from a cursor there is always the page it came from after this one.
        more = True
        if not rows:
            page = 1
    counted = _count(session, countable if countable is not None else query)
    exact = counted <= COUNT_CAP
    return Page(rows, min(counted, COUNT_CAP), page, per_page, exact, more,
                _encode(keys, rows[-1]) if rows and more else None,
                _encode(keys, rows[0]) if rows and page > 1 else None)


def _count(session: Session, query: Select[Any]) -> int:
    """How many rows `query` selects, counting no further than one past the cap."""
    bounded = query.order_by(None).limit(COUNT_CAP + 1).subquery()
    return session.scalar(select(func.count()).select_from(bounded)) or 0


def _beyond(keys: Sequence[SortKey[Any]], values: Sequence[Any],
            backwards: bool) -> ColumnElement[bool]:
    """Rows strictly past `values` in the order of `keys` (before them, walking backwards)."""
    descending = [key.descending != backwards for key in keys]
    columns = [key.column for key in keys]
    if all(descending) or not any(descending):
        # One direction: a row comparison, which an index on the columns serves directly.
        # Each value is bound as its column's type (a timestamp's as the column stores it).
        row = tuple_(*columns)
        bound = tuple_(*(bindparam(None, value, type_=column.type)
                         for column, value in zip(columns, values, strict=True)))
        return row < bound if descending[0] else row > bound
    later = [column < value if down else column > value
             for column, value, down in zip(columns, values, descending, strict=True)]
    alternatives = [and_(*(c == v for c, v in zip(columns[:i], values[:i], strict=True)),
                         later[i]) for i in range(len(keys))]
    # The bound on the first column alone lets an index on it start at the cursor.
    first = columns[0] <= values[0] if descending[0] else columns[0] >= values[0]
    return and_(first, or_(*alternatives))


def _encode(keys: Sequence[SortKey[Any]], row: Any) -> str:
    """The cursor of `row`: its sort values as URL-safe base64 of JSON."""
    values = json.dumps([key.read(row) for key in keys], ensure_ascii=False,
                        separators=(",", ":"))
    return base64.urlsafe_b64encode(values.encode()).decode().rstrip("=")


def _decode(cursor: str | None, keys: Sequence[SortKey[Any]]) -> list[Any] | None:
    """The sort values of a cursor, or None if it is missing or not one of this order's."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys):
            return None
        return [key.parse(value) for key, value in zip(keys, raw, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def _text(value: Any) -> str:
    """A string cursor value: valid UTF-8 (no lone surrogate) free of NUL, as columns hold."""
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not a text cursor value")
    value.encode()  # UnicodeEncodeError (a ValueError) on a lone surrogate
    return value


def _timestamp(value: Any) -> datetime:
    """A timestamp cursor value, in UTC as the columns read back (naive taken as UTC)."""
    moment = datetime.fromisoformat(_text(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _integer(value: Any) -> int:
    """An integer cursor value within the range of a database integer."""
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
        raise ValueError("not an integer cursor value")
    return value
