"""The built-in directory writes many accounts at once with the semantics of one at a time."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tasks.pbx.directory import DirectoryPhoneSystem
from web.extensions import db
from workflow.domain.routing import Routing, RoutingType
from workflow.models import DirectoryEntry, DirectoryWrite
from workflow.ports import AccountMissing, PhoneAccount


def entries() -> dict[str, tuple[str, str]]:
    """Each entry's extension and routing type, by SIP username."""
    db.session.expire_all()
    return {entry.sip_username: (entry.extension, entry.routing_type)
            for entry in db.session.scalars(select(DirectoryEntry))}


def writes() -> list[tuple[str, str, int | None]]:
    """Every write logged, in order: username, operation, ticket."""
    return [(row.sip_username, row.operation, row.ticket_id) for row in db.session.execute(
        select(DirectoryWrite.sip_username, DirectoryWrite.operation, DirectoryWrite.ticket_id)
        .order_by(DirectoryWrite.id))]


def test_many_accounts_are_created_updated_or_left_alone_at_once(app: Flask) -> None:
    # Given two accounts in the directory
    directory = DirectoryPhoneSystem(db.session())
    assert directory.ensure_accounts([
        (PhoneAccount("ag-a", "5001", Routing(), "secret-a"), 1),
        (PhoneAccount("ag-b", "5002", Routing(), "secret-b"), 2),
    ]) == 2
    db.session.commit()

    # When one is asked for as it is, one with a new extension and one is new
    changed = DirectoryPhoneSystem(db.session()).ensure_accounts([
        (PhoneAccount("ag-a", "5001", Routing()), 3),
        (PhoneAccount("ag-b", "5012", Routing()), 4),
        (PhoneAccount("ag-c", "5003", Routing(RoutingType.APP_WEB), "secret-c"), 5),
    ])
    db.session.commit()

    # Then only the changed and the new one are written and logged, each with its ticket
    assert changed == 2
    assert entries() == {"ag-a": ("5001", "app_web"), "ag-b": ("5012", "app_web"),
                         "ag-c": ("5003", "app_web")}
    assert writes() == [("ag-a", "create", 1), ("ag-b", "create", 2),
                        ("ag-b", "update", 4), ("ag-c", "create", 5)]
    # And a password left out keeps the one set before
    digest = db.session.scalar(select(DirectoryEntry.secret_digest)
                               .where(DirectoryEntry.sip_username == "ag-b"))
    assert digest is not None and len(digest) == 64


def test_an_account_missing_without_a_password_stops_the_writes_before_any(app: Flask) -> None:
    # Given an empty directory
    directory = DirectoryPhoneSystem(db.session())

    # When a new account comes with one that is missing and has no password to create it
    with pytest.raises(AccountMissing):
        directory.ensure_accounts([
            (PhoneAccount("ag-new", "5001", Routing(), "secret"), 1),
            (PhoneAccount("ag-gone", "5002", Routing()), 2),
        ])

    # Then nothing was written, even in the caller's transaction
    assert entries() == {} and writes() == []
    db.session.rollback()


def test_the_same_account_twice_is_written_in_order(app: Flask) -> None:
    # When one call creates an account and then changes it
    changed = DirectoryPhoneSystem(db.session()).ensure_accounts([
        (PhoneAccount("ag-a", "5001", Routing(), "secret"), 1),
        (PhoneAccount("ag-a", "5011", Routing()), 2),
    ])
    db.session.commit()

    # Then the second write sees the first
    assert changed == 2
    assert entries() == {"ag-a": ("5011", "app_web")}
    assert writes() == [("ag-a", "create", 1), ("ag-a", "update", 2)]
