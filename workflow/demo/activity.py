"""What the demo organisation has been doing: staff emails, agents, and tickets in every state.

Everything goes through the real services (submit, decide, provision), so the audit trail,
the phone-system directory, the SIP passwords and the notices agree with the agent list.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.domain.calling_rules import CallingRules, WorkingHours
from workflow.domain.rules import Actor, Role
from workflow.models import Branch, Department, Employee, Ticket, User
from workflow.ports import (
    CallRecord,
    PhoneAccount,
    PhoneSystem,
    PhoneSystemError,
    RegisteredDevice,
    TrunkGateway,
)
from workflow.tickets import decisions
from workflow.tickets.kinds import TicketKind
from workflow.tickets.provisioning import ProvisioningSettings, provision_ticket
from workflow.tickets.submission import TicketRequest, submit_ticket

#: Domain of the demo staff's email addresses.
EMAIL_DOMAIN = "demo.vn"
#: In each department, the staff (in the order the pages list them) who already hold an agent:
#: the last two, so the first four of every department are free to try the setup form.
WITH_AGENT = range(4, 6)
#: Departments whose calling profile lets calls be forwarded to phones: some of their agents
#: ring a mobile first, then the office line.
FORWARDING_DEPARTMENTS = frozenset({"Kinh doanh", "Chăm sóc khách hàng"})
#: The branch where the demo's tickets still in progress (or turned down) sit.
BUSY_BRANCH = "Trụ sở chính Hà Nội"
#: Why the demo's failed ticket failed.
OUTAGE = "phone system unreachable: connection timed out after 10 s"

Staff = Mapping[tuple[str, str], Sequence[Employee]]
PhoneSystems = Callable[[Session], PhoneSystem]


@dataclass(frozen=True)
class DemoActors:
    """Who files and who decides the demo's tickets."""

    requester: Actor
    approver: Actor


def email_for(full_name: str, taken: set[str]) -> str:
    """A Vietnamese office address: the given name and the other initials ("annv@…"),
    numbered when already taken."""
    plain = unicodedata.normalize("NFD", full_name.replace("Đ", "D").replace("đ", "d"))
    words = "".join(char for char in plain if not unicodedata.combining(char)).lower().split()
    local = words[-1] + "".join(word[0] for word in words[:-1])
    address, number = f"{local}@{EMAIL_DOMAIN}", 1
    while address in taken:
        number += 1
        address = f"{local}{number}@{EMAIL_DOMAIN}"
    taken.add(address)
    return address


def give_emails(session: Session) -> None:
    """Give every employee without an email an address of the demo domain."""
    taken = {each.lower() for each in session.scalars(
        select(Employee.email).where(Employee.email.is_not(None))) if each}
    for employee in session.scalars(select(Employee).where(Employee.email.is_(None))
                                    .order_by(Employee.id)):
        employee.email = email_for(employee.full_name, taken)
    session.commit()


def demo_actors(session: Session) -> DemoActors:
    """The demo requester and the demo approver (who decides for every branch)."""
    ids = {email: user_id for email, user_id in session.execute(select(User.email, User.id).where(
        User.email.in_(["requester@demo.vn", "approver@demo.vn"])))}
    return DemoActors(Actor(ids["requester@demo.vn"], Role.REQUESTER),
                      Actor(ids["approver@demo.vn"], Role.APPROVER, all_branches=True))


def staff_by_department(session: Session) -> dict[tuple[str, str], list[Employee]]:
    """Active employees by (branch, department) name, in the order the pages list them."""
    rows = session.execute(
        select(Branch.name, Department.name, Employee)
        .join(Department, Employee.department_id == Department.id)
        .join(Branch, Department.branch_id == Branch.id)
        .where(Employee.active).order_by(Employee.sort_name, Employee.id)
    ).all()
    staff: dict[tuple[str, str], list[Employee]] = {}
    for branch, department, employee in rows:
        staff.setdefault((branch, department), []).append(employee)
    return staff


def seed_activity(session: Session, phone_system: PhoneSystems,
                  settings: ProvisioningSettings) -> None:
    """Once, while the organisation has no ticket: emails, agents, and a ticket in each state."""
    if session.scalar(select(Ticket.id).limit(1)) is not None:
        return
    give_emails(session)
    people = demo_actors(session)
    staff = staff_by_department(session)
    _agents(session, people, staff, phone_system, settings)
    _tickets_in_progress(session, people, staff, phone_system, settings)


def _agents(session: Session, people: DemoActors, staff: Staff, phone_system: PhoneSystems,
            settings: ProvisioningSettings) -> None:
    """A third of every department gets an agent, then one is moved and one stopped."""
    ids = []
    for (_, department), employees in staff.items():
        for position in WITH_AGENT:
            employee = employees[position]
            forwards = department in FORWARDING_DEPARTMENTS and position == WITH_AGENT[-1]
            ids.append(_file(session, people, _new(employee, forwards)))
    _provision(session, people, ids, phone_system, settings)
    sales, accounts = staff[(BUSY_BRANCH, "Kinh doanh")], staff[(BUSY_BRANCH, "Kế toán")]
    moved = _file(session, people, _forward_to(
        sales[WITH_AGENT[0]], TicketKind.CHANGE,
        "Làm việc tại khách hàng cả tuần: đổ chuông di động trước."))
    stopped = _file(session, people, TicketRequest(
        TicketKind.REVOKE, accounts[WITH_AGENT[-1]].id, details="Nhân viên nghỉ việc từ 01/12."))
    _provision(session, people, [moved, stopped], phone_system, settings)


def _tickets_in_progress(session: Session, people: DemoActors, staff: Staff,
                         phone_system: PhoneSystems, settings: ProvisioningSettings) -> None:
    """Tickets waiting, approved, failed, rejected and cancelled, in the busy branch."""
    busy = {department: employees for (branch, department), employees in staff.items()
            if branch == BUSY_BRANCH}
    # Failed: the phone system did not answer on its one attempt.
    failed = _file(session, people, _new(busy["Kế toán"][0], False))
    decisions.approve_ticket(session, people.approver, failed)
    provision_ticket(session, failed, lambda inner: _Unreachable(),
                     replace(settings, max_attempts=1, batch=1))
    # Approved: the worker provisions it as soon as one runs (`agentdesk serve` has one).
    approved = _file(session, people, _new(busy["Kỹ thuật"][0], False))
    decisions.approve_ticket(session, people.approver, approved, "Đồng ý.")
    rejected = _file(session, people, _new(busy["Kỹ thuật"][1], False))
    decisions.reject_ticket(session, people.approver, rejected,
                            "Nhân viên thực tập, chưa cần số máy lẻ riêng.")
    cancelled = _file(session, people, _new(busy["Kế toán"][1], False))
    decisions.cancel_ticket(session, people.requester, cancelled, "Nộp nhầm nhân viên.")
    # Waiting for the approver: two new accounts and a new SIP password.
    _file(session, people, _new(busy["Kinh doanh"][0], True))
    _file(session, people, _new(busy["Chăm sóc khách hàng"][0], False))
    care = busy["Chăm sóc khách hàng"][WITH_AGENT[0]]
    _file(session, people, TicketRequest(
        TicketKind.CHANGE, care.id, reset_password=True,
        details="Nhân viên đổi điện thoại, cần mật khẩu SIP mới."))


def _new(employee: Employee, forwards: bool) -> TicketRequest:
    """A new-account ticket with the next free extension, ringing the App and the Web or,
    when `forwards`, a mobile then the office line."""
    return _forward_to(employee, TicketKind.NEW, "Nhân viên cần số máy lẻ.") if forwards else (
        TicketRequest(TicketKind.NEW, employee.id, routing_type="app_web",
                      details="Nhân viên cần số máy lẻ."))


def _forward_to(employee: Employee, kind: TicketKind, details: str) -> TicketRequest:
    """A ticket routing the employee's calls to a made-up mobile, then the office line."""
    return TicketRequest(kind, employee.id, routing_type="phone",
                         priority_number=f"0903{employee.id * 7919 % 10**6:06d}",
                         backup_number=f"0243826{employee.id:04d}", details=details)


def _file(session: Session, people: DemoActors, request: TicketRequest) -> int:
    """File a ticket as the demo requester; its id."""
    return submit_ticket(session, people.requester, request).id


def _provision(session: Session, people: DemoActors, ids: list[int],
               phone_system: PhoneSystems, settings: ProvisioningSettings) -> None:
    """Approve the tickets, then apply them as a worker would (one message takes many)."""
    for ticket_id in ids:
        decisions.approve_ticket(session, people.approver, ticket_id)
    for ticket_id in ids:
        provision_ticket(session, ticket_id, phone_system, settings)


class _Unreachable:
    """A phone system that does not answer: how the demo shows a failed ticket."""

    def ensure_account(self, account: PhoneAccount, ticket_id: int) -> bool:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def ensure_accounts(self, accounts: Sequence[tuple[PhoneAccount, int]]) -> int:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def remove_account(self, sip_username: str, ticket_id: int) -> bool:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def accounts(self) -> dict[str, PhoneAccount]:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def ensure_calling(self, rules: Mapping[str, CallingRules]) -> int:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def ensure_calling_plan(self, hours: WorkingHours) -> bool:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def recent_calls(self, sip_username: str, limit: int) -> list[CallRecord]:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def last_calls(self, sip_usernames: Sequence[str]) -> dict[str, CallRecord]:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def ensure_trunks(self, trunks: Sequence[TrunkGateway], dids: Mapping[str, str]) -> bool:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

    def registered_devices(self) -> dict[str, list[RegisteredDevice]]:
        """Fail, as a switchboard that cannot be reached does."""
        raise PhoneSystemError(OUTAGE)

