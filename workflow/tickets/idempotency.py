"""One ticket per requester and Idempotency-Key, also when the copies of a request overlap.

A client (or a double click, or a resent page) may send the same submission several times
at once. The first to get through files the ticket; every other copy must answer with that
ticket, never with the refusal its own rules' check would give ("already has ticket #70").

A copy whose body differs from the first also gets the first ticket: the key names one
intended submission, so a retry learns what became of it rather than filing (or being
refused) something else. A key whose first request was refused files nothing, so a
corrected request with the same key is checked and filed as new.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.domain.errors import Conflict, RuleViolation
from workflow.models import Ticket, on_postgresql

T = TypeVar("T")

#: Class of the PostgreSQL advisory locks on idempotency keys ("idky"). The two-key form
#: keeps them apart from the one-key locks (such as the extension pick lock).
KEY_LOCK_CLASS = 0x69646B79


def _key_hash(requester_id: int, key: str) -> int:
    """A signed 32-bit hash of (requester, key); a rare collision only makes two wait."""
    value = zlib.crc32(f"{requester_id}:{key}".encode())
    return value - 2**32 if value >= 2**31 else value


def serialise(session: Session, requester_id: int, key: str) -> None:
    """Wait until no other transaction is submitting with this (requester, key).

    Taken on PostgreSQL before anything the submission reads, and held until it commits, so
    a copy that waited reads the ticket its twin filed (each statement of READ COMMITTED
    sees what committed before it began). SQLite runs one writer at a time anyway; there a
    refused copy looks the key up again (`replayed`).
    """
    if on_postgresql(session):
        session.execute(select(func.pg_advisory_xact_lock(
            KEY_LOCK_CLASS, _key_hash(requester_id, key))))


def replayed(session: Session, requester_id: int, key: str) -> Ticket | None:
    """The ticket this requester already filed with this key, if any."""
    return session.scalar(
        select(Ticket).where(Ticket.requester_id == requester_id,
                             Ticket.idempotency_key == key)
    )


def once(session: Session, requester_id: int, key: str, file: Callable[[], T],
         replay: Callable[[Ticket], T]) -> T:
    """`file` the ticket of (requester, key), or `replay` the one already filed with it."""
    serialise(session, requester_id, key)
    found = replayed(session, requester_id, key)
    if found is None:
        try:
            return file()
        except (RuleViolation, Conflict):
            # A copy that overlapped this one (on SQLite, which takes no lock) may have
            # filed the ticket after the look-up above: the answer is then its ticket.
            session.rollback()
            found = replayed(session, requester_id, key)
            if found is None:
                raise
    answer = replay(found)
    session.commit()  # ends the read, and with it the key's lock, at once
    return answer
