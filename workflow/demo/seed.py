"""A demo organisation with Vietnamese branches, departments and staff (idempotent)."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.demo.activity import PhoneSystems, seed_activity
from workflow.demo.calling import seed_calling
from workflow.domain.rules import Role
from workflow.models import Branch, Department, Employee, Organisation, User
from workflow.people.accounts import save_user
from workflow.tickets.provisioning import ProvisioningSettings

BRANCHES = (
    ("Trụ sở chính Hà Nội", "office"),
    ("Chi nhánh TP. Hồ Chí Minh", "branch"),
    ("Cơ sở Đà Nẵng", "facility"),
)
DEPARTMENTS = ("Kinh doanh", "Chăm sóc khách hàng", "Kỹ thuật", "Kế toán")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Văn", "Thị", "Minh", "Thu", "Quốc", "Ngọc")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nhung", "Phúc", "Quang", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn")
#: Employees per department (3 branches x 4 departments x 6 = 72).
STAFF_PER_DEPARTMENT = 6


def vietnamese_names() -> itertools.cycle[str]:
    """An endless, deterministic supply of distinct-looking Vietnamese names."""
    return itertools.cycle(
        f"{FAMILY[i % len(FAMILY)]} {MIDDLE[i % len(MIDDLE)]} {GIVEN[i % len(GIVEN)]}"
        for i in range(len(FAMILY) * len(GIVEN))
    )


def seed_demo(session: Session, password_hash: str, phone_system: PhoneSystems,
              settings: ProvisioningSettings) -> Organisation:
    """Create the demo organisation, its users and what they have done, once; later runs
    change nothing."""
    organisation = session.scalar(select(Organisation).where(Organisation.name == "Công ty Demo"))
    if organisation is None:
        organisation = Organisation(
            name="Công ty Demo", extension_length=4, extension_prefix="5",
            reserved_extensions=["5000", "5555"],
        )
        session.add(organisation)
        session.flush()
        names = vietnamese_names()
        codes = itertools.count(1)
        for branch_name, kind in BRANCHES:
            branch = Branch(organisation_id=organisation.id, name=branch_name, kind=kind)
            session.add(branch)
            for department_name in DEPARTMENTS:
                department = Department(branch=branch, name=department_name)
                session.add(department)
                for _ in range(STAFF_PER_DEPARTMENT):
                    session.add(Employee(department=department, full_name=next(names),
                                         employee_code=f"NV{next(codes):04d}"))
        session.commit()
    for email, role in (("requester@demo.vn", Role.REQUESTER), ("approver@demo.vn", Role.APPROVER),
                        ("admin@demo.vn", Role.ADMIN)):
        if not _user_exists(session, email):
            save_user(session, email, role, password_hash, full_name=_demo_name(role))
    admin_id = session.scalar(select(User.id).where(User.email == "admin@demo.vn"))
    assert admin_id is not None
    seed_calling(session, admin_id)
    seed_activity(session, phone_system, settings)
    return organisation


def _user_exists(session: Session, email: str) -> bool:
    """Whether a user with this email is already there."""
    return session.scalar(select(User.id).where(User.email == email)) is not None


def _demo_name(role: Role) -> str:
    """The display name of a demo user."""
    return {Role.REQUESTER: "Nguyễn Thị Yêu Cầu", Role.APPROVER: "Trần Văn Duyệt",
            Role.ADMIN: "Lê Quản Trị"}[role]
