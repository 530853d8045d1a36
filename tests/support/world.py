"""A small organisation with one user per role, and tickets filed and decided in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.security import generate_password_hash

from tasks.relay import sweep_once
from tasks.runtime import runtime
from tests.support.apps import drain
from web.extensions import db
from workflow.calling.defaults import ensure_default_profile
from workflow.domain.errors import RuleViolation
from workflow.domain.rules import Role
from workflow.models import (
    Branch,
    Department,
    Employee,
    Organisation,
    Ticket,
    User,
)
from workflow.people.accounts import actor_of, save_user
from workflow.ports import PhoneAccount, PhoneSystemError
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

#: Password of every test user; hashed once per session because hashing is slow on purpose.
PASSWORD = "s3cret-pass"


PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


@dataclass
class World:
    """A small organisation: two branches, staff, and one user per role."""

    organisation_id: int
    branch_ids: list[int]
    department_ids: list[int]
    employee_ids: list[int]
    requester_id: int
    approver_id: int
    other_approver_id: int
    admin_id: int
    emails: dict[str, str]


def make_world(employees_per_department: int = 4) -> World:
    """Create the organisation in the current app context."""
    session = db.session
    organisation = Organisation(
        name="Công ty Thử", extension_length=4, extension_prefix="5", reserved_extensions=["5000"]
    )
    session.add(organisation)
    session.flush()
    branches = [
        Branch(organisation_id=organisation.id, name=name, kind=kind)
        for name, kind in (("Hà Nội", "office"), ("Đà Nẵng", "branch"))
    ]
    departments = [
        Department(branch=branch, name=name)
        for branch in branches
        for name in ("Kinh doanh", "Kỹ thuật")
    ]
    employees = [
        Employee(department=department, full_name=f"Nhân viên {d}-{i}")
        for d, department in enumerate(departments)
        for i in range(employees_per_department)
    ]
    session.add_all([*branches, *departments, *employees])
    ensure_default_profile(session)  # as migration 0006 leaves every installation
    session.commit()
    emails = {
        "requester": "requester@test.vn",
        "approver": "approver@test.vn",
        "other_approver": "approver2@test.vn",
        "admin": "admin@test.vn",
    }
    requester = save_user(
        session, emails["requester"], Role.REQUESTER, PASSWORD_HASH, "Người Yêu Cầu"
    )
    approver = save_user(
        session, emails["approver"], Role.APPROVER, PASSWORD_HASH, "Người Duyệt", [branches[0].id]
    )
    other = save_user(
        session,
        emails["other_approver"],
        Role.APPROVER,
        PASSWORD_HASH,
        "Người Duyệt Khác",
        [branches[1].id],
    )
    admin = save_user(session, emails["admin"], Role.ADMIN, PASSWORD_HASH, "Quản Trị")
    return World(
        organisation.id,
        [b.id for b in branches],
        [d.id for d in departments],
        [e.id for e in employees],
        requester.id,
        approver.id,
        other.id,
        admin.id,
        emails,
    )


def actor(user_id: int):  # type: ignore[no-untyped-def]
    """The rules' view of a stored user."""
    return actor_of(db.session.get(User, user_id))


def submit(world: World, **fields: object) -> Ticket:
    """Submit a ticket as the world's requester."""
    request = TicketRequest(
        **{"kind": TicketKind.NEW, "employee_id": world.employee_ids[0], **fields}
    )  # type: ignore[arg-type]
    return submit_ticket(db.session, actor(world.requester_id), request)


def provision(app: Flask, world: World, ticket: Ticket) -> None:
    """Approve `ticket` and run the workers until it is done."""
    decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
    drain(app)
    db.session.expire_all()


def problems_of(error: pytest.ExceptionInfo[RuleViolation]) -> dict[str, list[str]]:
    """Problem codes per field."""
    return {field: [p.code for p in found] for field, found in error.value.problems.items()}


class UnreachableSwitchboard:
    """A phone system that cannot be reached, as when the PBX is down."""

    def ensure_account(self, account: PhoneAccount, ticket_id: int) -> bool:
        raise PhoneSystemError("switchboard unreachable")

    def ensure_accounts(self, accounts: Sequence[tuple[PhoneAccount, int]]) -> int:
        raise PhoneSystemError("switchboard unreachable")

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        raise PhoneSystemError("switchboard unreachable")


def failed_ticket(app: Flask, world: World) -> Ticket:
    """A ticket approved while the switchboard is unreachable, run through every attempt."""
    deps = runtime(app)
    real_phone_system = deps.phone_system
    deps.phone_system = lambda session: UnreachableSwitchboard()
    try:
        ticket = submit(world, extension="5001")
        decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
        for _ in range(deps.provisioning.max_attempts + 2):
            drain(app)
            sweep_once(deps)  # the lease of a failed attempt expires at once in tests
        drain(app)
    finally:
        deps.phone_system = real_phone_system
    db.session.expire_all()
    return db.session.get_one(Ticket, ticket.id)


def legacy(model: Any, row_id: int, **values: object) -> None:
    """Write values straight into a row, as data saved before the checks existed."""
    db.session.execute(update(model).where(model.id == row_id).values(**values))
    db.session.commit()


def ticket_done(app: Flask, world: World, employee: int, approver_id: int) -> int:
    """A ticket for the world's employee, approved and provisioned (a password issued)."""
    ticket_id = submit(world, employee_id=world.employee_ids[employee]).id
    decisions.approve_ticket(db.session, actor(approver_id), ticket_id)
    drain(app)
    return ticket_id
