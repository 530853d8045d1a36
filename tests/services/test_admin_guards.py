"""Every service that changes the organisation's set-up checks that its actor is an admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import select, update

from tasks.runtime import runtime
from tests.support.world import World
from web.extensions import db
from workflow.calling import admin, calendar, trunks
from workflow.domain.calling_rules import Level
from workflow.domain.errors import PermissionDenied
from workflow.domain.rules import Role
from workflow.models import Base, Branch, User
from workflow.people import structure
from workflow.people.accounts import add_user, change_access
from workflow.people.policy import update_policy
from workflow.people.staff_import import apply_import
from workflow.permissions import ADMIN_ONLY


@dataclass(frozen=True)
class SetUp:
    """Things an admin made first, which the refused changes aim at."""

    world: World
    profile_id: int
    holiday_id: int
    trunk_id: int


#: A change to the set-up, made by the actor with this id (None: the system).
Change = Callable[[SetUp, int | None], Any]


def _cipher() -> Any:
    """The app's cipher, which seals trunk passwords."""
    return runtime(current_app).provisioning.vault.cipher


def _trunk(name: str = "VNPT") -> trunks.TrunkInput:
    """A valid carrier trunk."""
    return trunks.TrunkInput(name=name, address="203.162.4.1", number="028 7300 1234")


_ROWS = [{"branch": "Hà Nội", "department": "Kế toán", "full_name": "Nguyễn Văn Mới",
          "employee_code": "NV900", "email": ""}]

#: Every service that changes the set-up, by family, with arguments it would accept.
CHANGES: dict[str, Change] = {
    "calling.save_profile": lambda s, who: admin.save_profile(
        db.session, who, admin.ProfileInput(name="Chỉ nội bộ")),
    "calling.assign_profile": lambda s, who: admin.assign_profile(
        db.session, who, Level.BRANCH, s.world.branch_ids[0], s.profile_id),
    "calling.unassign_profile": lambda s, who: admin.unassign_profile(
        db.session, who, Level.ORGANISATION, None),
    "calling.save_hotline": lambda s, who: admin.save_hotline(
        db.session, who, "02473005678", "Bán hàng"),
    "calling.save_job_role": lambda s, who: admin.save_job_role(db.session, who, "Telesales"),
    "calling.set_job_role": lambda s, who: admin.set_job_role(
        db.session, who, s.world.employee_ids[0], None),
    "calendar.set_working_week": lambda s, who: calendar.set_working_week(
        db.session, who, [(0, time(8), time(12))]),
    "calendar.add_holiday": lambda s, who: calendar.add_holiday(
        db.session, who, date(2031, 9, 2), "Quốc khánh"),
    "calendar.remove_holiday": lambda s, who: calendar.remove_holiday(
        db.session, who, s.holiday_id),
    "trunks.save_trunk": lambda s, who: trunks.save_trunk(
        db.session, who, _cipher(), _trunk("Viettel")),
    "trunks.move_trunk": lambda s, who: trunks.move_trunk(db.session, who, s.trunk_id, 2),
    "trunks.step_trunk": lambda s, who: trunks.step_trunk(
        db.session, who, s.trunk_id, trunks.Step.DOWN),
    "trunks.set_enabled": lambda s, who: trunks.set_enabled(
        db.session, who, s.trunk_id, False),
    "trunks.delete_trunk": lambda s, who: trunks.delete_trunk(db.session, who, s.trunk_id),
    "structure.save_branch": lambda s, who: structure.save_branch(
        db.session, None, "Cần Thơ", "branch", actor_id=who),
    "structure.save_department": lambda s, who: structure.save_department(
        db.session, None, s.world.branch_ids[0], "Kế toán", actor_id=who),
    "structure.save_employee": lambda s, who: structure.save_employee(
        db.session, s.world.employee_ids[0], s.world.department_ids[0], "Tên Mới",
        actor_id=who),
    "structure.save_employee_with_role": lambda s, who: structure.save_employee_with_role(
        db.session, None, s.world.department_ids[0], "Người Mới", "", "", True, who, None),
    "staff_import.apply_import": lambda s, who: apply_import(db.session, _ROWS, who),
    "accounts.add_user": lambda s, who: add_user(
        db.session, "moi@test.vn", "Người Mới", Role.REQUESTER, "x", [], actor_id=who),
    "accounts.change_access": lambda s, who: change_access(
        db.session, s.world.requester_id, Role.APPROVER, [], True, actor_id=who),
    "extensions.update_policy": lambda s, who: update_policy(
        db.session, 4, "5", ["5000", "5999"], actor_id=who),
}


@pytest.fixture
def set_up(app: Flask, world: World) -> SetUp:
    """A profile, a holiday and two trunks, made by the world's admin."""
    profile = admin.save_profile(db.session, world.admin_id, admin.ProfileInput(name="Gọi ra"))
    holiday = calendar.add_holiday(db.session, world.admin_id, date(2031, 1, 1), "Tết Dương lịch")
    first = trunks.save_trunk(db.session, world.admin_id, _cipher(), _trunk())
    trunks.save_trunk(db.session, world.admin_id, _cipher(), _trunk("FPT"))
    return SetUp(world, profile.id, holiday.id, first.id)


def _every_row() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: the whole database as data."""
    return {table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables}


def _deactivated_admin(world: World) -> int:
    """An admin who may no longer sign in."""
    user_id = add_user(db.session, "cu@test.vn", "Quản Trị Cũ", Role.ADMIN, "x", [],
                       actor_id=world.admin_id).id
    db.session.execute(update(User).where(User.id == user_id).values(active=False))
    db.session.commit()
    return user_id


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_by_someone_not_an_admin_is_refused_and_changes_nothing(
    set_up: SetUp, change: str
) -> None:
    world = set_up.world
    # A requester, an approver, an admin who may no longer sign in, and nobody at all.
    for actor_id in (world.requester_id, world.approver_id, _deactivated_admin(world), 10**6):
        db.session.expire_all()
        before = _every_row()
        with pytest.raises(PermissionDenied) as refused:
            CHANGES[change](set_up, actor_id)
        assert refused.value.code == ADMIN_ONLY
        assert not (db.session.new or db.session.dirty or db.session.deleted)
        db.session.rollback()
        assert _every_row() == before


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_the_same_change_by_an_admin_is_made(set_up: SetUp, change: str) -> None:
    before = _every_row()
    CHANGES[change](set_up, set_up.world.admin_id)
    db.session.rollback()  # only what the service committed counts
    assert _every_row() != before


@pytest.mark.parametrize("change", ["structure.save_branch", "staff_import.apply_import",
                                    "trunks.save_trunk", "calling.save_hotline"])
def test_the_system_itself_may_change_the_set_up(set_up: SetUp, change: str) -> None:
    # The command line at the server, demo seeding and the workers act as no user.
    before = _every_row()
    CHANGES[change](set_up, None)
    db.session.rollback()
    assert _every_row() != before


def test_an_admin_demoted_meanwhile_is_refused_at_once(set_up: SetUp) -> None:
    world = set_up.world
    second = add_user(db.session, "phu@test.vn", "Quản Trị Phụ", Role.ADMIN, "x", [],
                      actor_id=world.admin_id).id
    change_access(db.session, second, Role.REQUESTER, [], True, actor_id=world.admin_id)
    with pytest.raises(PermissionDenied):
        structure.save_branch(db.session, None, "Huế", "branch", actor_id=second)
    db.session.rollback()
    assert db.session.scalar(select(Branch.id).where(Branch.name == "Huế")) is None
