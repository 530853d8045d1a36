"""Carrier trunks: admins' audited changes, and what the phone system must hold for them.

A trunk's digest password towards its carrier is kept encrypted with the app's `Cipher`
and is never shown back nor written to the audit trail: only whether one is set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calling.admin import _flush_unique, audit
from workflow.calling.gateways import list_trunks
from workflow.domain.calling_rules import AuditSubject
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound, Problem, RuleViolation
from workflow.domain.routing import normalise_number
from workflow.domain.text import for_field, one_line_problem, unsafe_characters
from workflow.models import utcnow
from workflow.models.calling import Trunk
from workflow.permissions import require_admin
from workflow.ports import Cipher

TRANSPORTS = ("udp", "tcp", "tls")
NUMBER_FORMATS = ("e164", "national")
#: The highest position an admin may type (trunks are renumbered 1, 2, … anyway).
MAX_POSITION = 999
MAX_NAME = 100
MAX_USERNAME = 64
MAX_PASSWORD = 128
MAX_REALM = 100
DEFAULT_PORT = 5060


class Step(StrEnum):
    """One place earlier or later in the order in which trunks are tried."""

    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class TrunkInput:
    """A trunk as an admin fills it in; an empty password keeps the stored one."""

    name: str
    address: str
    number: str
    port: int | None = DEFAULT_PORT
    transport: str = "udp"
    number_format: str = "e164"
    #: Where it goes in the order (1 first); None: last when new, where it is when edited.
    position: int | None = None
    auth_username: str = ""
    auth_password: str = field(default="", repr=False)
    auth_realm: str = ""
    enabled: bool = True


def get_trunk(session: Session, trunk_id: int) -> Trunk:
    """The trunk with this id, or NotFound."""
    row = session.get(Trunk, trunk_id)
    if row is None:
        raise NotFound(ErrorCode.TRUNK_NOT_FOUND, trunk_id=trunk_id)
    return row


def find_trunk(session: Session, name_or_id: str) -> Trunk:
    """The trunk named so (or with this id, for the command line), or NotFound."""
    row = session.scalar(select(Trunk).where(Trunk.name == name_or_id.strip()))
    if row is None and name_or_id.strip().isdecimal() and len(name_or_id.strip()) < 10:
        row = session.get(Trunk, int(name_or_id))
    if row is None:
        raise NotFound(ErrorCode.TRUNK_NOT_FOUND, trunk_id=name_or_id[:100])
    return row


def input_of(row: Trunk) -> TrunkInput:
    """A stored trunk as input (the password left empty: kept), to change a few fields."""
    return TrunkInput(name=row.name, address=row.address, number=row.number, port=row.port,
                      transport=row.transport, number_format=row.number_format,
                      position=row.position, auth_username=row.auth_username or "",
                      auth_realm=row.auth_realm or "", enabled=row.enabled)


def save_trunk(session: Session, actor_id: int | None, cipher: Cipher, data: TrunkInput,
               trunk_id: int | None = None) -> Trunk:
    """Add a trunk (no id) or change one; every problem of the input at once; audited."""
    require_admin(session, actor_id)
    row = get_trunk(session, trunk_id) if trunk_id else Trunk()
    clean = _checked(data, has_password=bool(row.auth_password_sealed))
    before = snapshot(row) if trunk_id else None
    row.name, row.address, row.port = clean.name, clean.address, clean.port or DEFAULT_PORT
    row.transport, row.number_format, row.number = (clean.transport, clean.number_format,
                                                    clean.number)
    row.auth_username = clean.auth_username or None
    row.auth_realm = (clean.auth_realm or None) if clean.auth_username else None
    if not clean.auth_username:
        row.auth_password_sealed = None  # no user, no credentials
    elif data.auth_password:
        row.auth_password_sealed = cipher.encrypt(data.auth_password.encode()).decode()
    row.enabled, row.updated_at = clean.enabled, utcnow()
    if row.position is None:
        row.position = MAX_POSITION + 1  # last, until renumbered
    session.add(row)
    _flush_unique(session, "name", ErrorCode.TRUNK_NAME_TAKEN)
    _place(session, row, clean.position)
    # A new password on a trunk that had one shows as a change, never as its value.
    replaced = ("auth_password",) if trunk_id and data.auth_password and clean.auth_username \
        else ()
    audit(session, actor_id, AuditSubject.TRUNK, row.id, before, snapshot(row), keep=replaced)
    session.commit()
    return row


def move_trunk(session: Session, actor_id: int | None, trunk_id: int, position: int) -> Trunk:
    """Put a trunk at `position` in the order (the others shift); audited."""
    require_admin(session, actor_id)
    row = get_trunk(session, trunk_id)
    if not 1 <= position <= MAX_POSITION:
        raise RuleViolation.single("position", ErrorCode.TRUNK_POSITION_RANGE, max=MAX_POSITION)
    return _move(session, actor_id, row, position)


def step_trunk(session: Session, actor_id: int | None, trunk_id: int, step: Step) -> Trunk:
    """Move a trunk one place up or down in the order (nothing at either end); audited."""
    require_admin(session, actor_id)
    row = get_trunk(session, trunk_id)
    position = row.position + (-1 if step is Step.UP else 1)
    return _move(session, actor_id, row, max(1, min(position, MAX_POSITION)))


def _move(session: Session, actor_id: int | None, row: Trunk, position: int) -> Trunk:
    """Put `row` at `position` and audit it, or change nothing when it stays where it is."""
    before = snapshot(row)
    _place(session, row, position)
    if row.position == before["position"]:
        session.rollback()
        return row
    row.updated_at = utcnow()
    audit(session, actor_id, AuditSubject.TRUNK, row.id, before, snapshot(row))
    session.commit()
    return row


def set_enabled(session: Session, actor_id: int | None, trunk_id: int, enabled: bool) -> Trunk:
    """Enable or disable a trunk (a disabled one is neither tried nor trusted); audited."""
    require_admin(session, actor_id)
    row = get_trunk(session, trunk_id)
    if row.enabled == enabled:
        return row
    before = snapshot(row)
    row.enabled, row.updated_at = enabled, utcnow()
    audit(session, actor_id, AuditSubject.TRUNK, row.id, before, snapshot(row))
    session.commit()
    return row


def delete_trunk(session: Session, actor_id: int | None, trunk_id: int) -> None:
    """Remove a trunk; the others close up the order; audited."""
    require_admin(session, actor_id)
    row = get_trunk(session, trunk_id)
    before = snapshot(row)
    session.delete(row)
    session.flush()
    _renumber(session, list_trunks(session))
    audit(session, actor_id, AuditSubject.TRUNK, trunk_id, before, {"name": None, "deleted": True},
          keep=("name",))
    session.commit()


def snapshot(row: Trunk) -> dict[str, Any]:
    """A trunk's settings as the audit trail records them (whether a password is set, only)."""
    return {"name": row.name, "address": row.address, "port": row.port,
            "transport": row.transport, "position": row.position,
            "number_format": row.number_format, "number": row.number,
            "auth_username": row.auth_username, "auth_password": bool(row.auth_password_sealed),
            "auth_realm": row.auth_realm, "enabled": row.enabled}


def _printable_ascii(value: str) -> bool:
    """Whether `value` is printable ASCII, as digest credentials towards a carrier are (the
    phone system reads them back as such)."""
    return all(" " <= character <= "~" for character in value)


def _checked(data: TrunkInput, has_password: bool) -> TrunkInput:
    """The input trimmed and normalised, or RuleViolation with every problem by field."""
    problems: dict[str, list[Problem]] = {}

    def text(name: str, value: str, max_length: int, required: bool) -> str:
        problem = one_line_problem(value, max_length, required)
        if problem is not None:
            problems[name] = [for_field(problem, name)]
        return value.strip()

    name = text("name", data.name, MAX_NAME, True)
    address = _address(data.address)
    if address is None:
        problems["address"] = [Problem(ErrorCode.TRUNK_ADDRESS_INVALID)]
    number = None
    if one_line_problem(data.number, 30) is None:
        number = normalise_number(data.number.strip())
    if number is None:
        number = data.number.strip()[:30]
        problems["number"] = [Problem(ErrorCode.PHONE_INVALID, {"number": number})]
    if data.port is not None and not 1 <= data.port <= 65_535:
        problems["port"] = [Problem(ErrorCode.TRUNK_PORT_RANGE)]
    if data.transport not in TRANSPORTS:
        problems["transport"] = [Problem(ErrorCode.TRUNK_TRANSPORT_UNKNOWN)]
    if data.number_format not in NUMBER_FORMATS:
        problems["number_format"] = [Problem(ErrorCode.TRUNK_FORMAT_UNKNOWN)]
    if data.position is not None and not 1 <= data.position <= MAX_POSITION:
        problems["position"] = [Problem(ErrorCode.TRUNK_POSITION_RANGE, {"max": MAX_POSITION})]
    username = text("auth_username", data.auth_username, MAX_USERNAME, False)
    realm = text("auth_realm", data.auth_realm, MAX_REALM, False)
    for field_name, value in (("auth_username", username), ("auth_realm", realm)):
        if field_name not in problems and not _printable_ascii(value):
            problems[field_name] = [Problem(ErrorCode.TRUNK_CREDENTIAL_ASCII)]
    if data.auth_password:
        if unsafe := unsafe_characters(data.auth_password):
            problems["auth_password"] = [Problem(ErrorCode.TRUNK_PASSWORD_UNSAFE,
                                                 {"characters": ", ".join(unsafe[:10])})]
        elif not _printable_ascii(data.auth_password):
            problems["auth_password"] = [Problem(ErrorCode.TRUNK_CREDENTIAL_ASCII)]
        elif len(data.auth_password) > MAX_PASSWORD:
            problems["auth_password"] = [Problem(ErrorCode.TRUNK_PASSWORD_LENGTH,
                                                 {"max": MAX_PASSWORD})]
        elif not username and "auth_username" not in problems:
            problems["auth_username"] = [Problem(ErrorCode.TRUNK_USERNAME_REQUIRED)]
    elif username and not has_password:
        problems["auth_password"] = [Problem(ErrorCode.TRUNK_PASSWORD_REQUIRED)]
    if problems:
        raise RuleViolation(problems)
    assert address is not None and number is not None
    return replace(data, name=name, address=address, number=number, auth_username=username,
                   auth_realm=realm)


def _address(value: str) -> str | None:
    """An IP address in its canonical form (IPv6 compressed), or None when it is not one."""
    raw = value.strip()
    if not raw or len(raw) > 45 or "%" in raw:  # no zone ids: they name a local interface
        return None
    try:
        address = ipaddress.ip_address(raw.strip("[]") if raw.startswith("[") else raw)
    except ValueError:
        return None
    if address.is_unspecified or address.is_multicast:
        return None
    return str(address)


def _place(session: Session, row: Trunk, position: int | None) -> None:
    """Put `row` at `position` among the trunks (None: where it is) and number them 1, 2, …."""
    others = [each for each in list_trunks(session) if each.id != row.id]
    index = len(others) if position is None and row.position > MAX_POSITION else (
        (position if position is not None else row.position) - 1)
    others.insert(max(0, min(index, len(others))), row)
    _renumber(session, others)


def _renumber(session: Session, ordered: Sequence[Trunk]) -> None:
    """Positions 1, 2, … in this order."""
    for number, each in enumerate(ordered, start=1):
        each.position = number
    session.flush()
