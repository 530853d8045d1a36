"""Addresses refused signing in for a while, kept in the database so that every web process
refuses them in the read that looks a bearer token up, with no round trip of its own."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow.db import on_postgresql, utcnow
from workflow.models import SignInRefusal

#: Longest address kept as it is (an IPv6 address with a zone fits); longer ones, which only
#: a misconfigured proxy passes on, are kept as a digest.
MAX_ADDRESS = 64


class SignInRefused(Exception):
    """The caller's address is refused signing in until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


def refusal_key(address: str) -> str:
    """The key of `address` in the table."""
    if len(address) <= MAX_ADDRESS:
        return address
    return "sha256:" + hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()[:57]


def refuse_address(session: Session, address: str, until: datetime) -> None:
    """Refuse `address` until `until` (or later, if it already is); forget ended refusals."""
    dialect: Any = postgresql if on_postgresql(session) else sqlite
    statement = dialect.insert(SignInRefusal).values(address=refusal_key(address), until=until)
    session.execute(statement.on_conflict_do_update(
        index_elements=[SignInRefusal.address],
        set_={"until": statement.excluded.until},
        where=SignInRefusal.until < statement.excluded.until))
    # Refusals are few (an address must fail many times first), so the table stays small.
    session.execute(delete(SignInRefusal).where(SignInRefusal.until < utcnow()))
    session.commit()
