"""The set-up use cases refuse what their pages show as refusals, and change nothing then."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tasks.runtime import runtime
from tests.support.world import World, problems_of
from web.extensions import db
from workflow.calling import admin, trunks
from workflow.domain.calling_rules import Level
from workflow.domain.codes import ErrorCode
from workflow.domain.errors import NotFound, RuleViolation
from workflow.models import Base, current_organisation
from workflow.models.calling import CallingAssignment, CallingChange
from workflow.people.policy import update_policy


def _every_row() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: the whole database as data."""
    return {table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables}


def _trunk(app: Flask, world: World, name: str, address: str) -> int:
    """A carrier trunk added last in the order, by the world's admin."""
    cipher = runtime(app).provisioning.vault.cipher
    data = trunks.TrunkInput(name=name, address=address, number="028 7300 1234")
    return trunks.save_trunk(db.session, world.admin_id, cipher, data).id


def _order() -> list[str]:
    """The trunks' names in the order they are tried."""
    return [row.name for row in trunks.list_trunks(db.session)]


@pytest.mark.parametrize("number", ["năm", "5 001", "５００１", ""])
def test_a_reserved_number_that_is_not_digits_is_refused_on_the_reserved_field(
    app: Flask, world: World, number: str
) -> None:
    before = _every_row()
    with pytest.raises(RuleViolation) as refused:
        update_policy(db.session(), 4, "6", ["5999", number], actor_id=world.admin_id)
    assert problems_of(refused) == {"reserved": [ErrorCode.RESERVED_DIGITS]}
    db.session.rollback()
    assert _every_row() == before
    assert current_organisation(db.session()).reserved_extensions == ["5000"]


def test_reserved_numbers_in_digits_are_kept(app: Flask, world: World) -> None:
    organisation = update_policy(db.session(), 4, "5", ["5999", "5000"], actor_id=world.admin_id)
    assert organisation.reserved_extensions == ["5000", "5999"]


def test_a_trunk_steps_one_place_down_and_up_with_each_step_audited(
    app: Flask, world: World
) -> None:
    first, _second, third = (_trunk(app, world, name, f"10.0.0.{index}")
                             for index, name in enumerate("ABC", start=1))
    trunks.step_trunk(db.session, world.admin_id, first, trunks.Step.DOWN)
    assert _order() == ["B", "A", "C"]
    trunks.step_trunk(db.session, world.admin_id, third, trunks.Step.UP)
    assert _order() == ["B", "C", "A"]
    moves = db.session.scalars(select(CallingChange).where(CallingChange.subject == "trunk")
                               .order_by(CallingChange.id)).all()[-2:]
    assert [change.changes["position"] for change in moves] == [[1, 2], [3, 2]]


@pytest.mark.parametrize(("which", "step"), [(0, trunks.Step.UP), (1, trunks.Step.DOWN)])
def test_a_trunk_at_either_end_stays_where_it_is_and_nothing_is_written(
    app: Flask, world: World, which: int, step: trunks.Step
) -> None:
    ends = [_trunk(app, world, "A", "10.0.0.1"), _trunk(app, world, "B", "10.0.0.2")]
    before = _every_row()
    trunks.step_trunk(db.session, world.admin_id, ends[which], step)
    assert _every_row() == before


def test_stepping_a_trunk_that_does_not_exist_is_refused(app: Flask, world: World) -> None:
    with pytest.raises(NotFound) as refused:
        trunks.step_trunk(db.session, world.admin_id, 10**6, trunks.Step.UP)
    assert refused.value.code == ErrorCode.TRUNK_NOT_FOUND


@pytest.mark.parametrize("level", [Level.BRANCH, Level.AGENT])
def test_removing_where_nothing_is_assigned_is_refused_and_changes_nothing(
    app: Flask, world: World, level: Level
) -> None:
    target_id = world.branch_ids[1] if level is Level.BRANCH else 10**6
    before = _every_row()
    with pytest.raises(NotFound) as refused:
        admin.unassign_profile(db.session, world.admin_id, level, target_id)
    assert refused.value.code == ErrorCode.NOTHING_ASSIGNED
    assert refused.value.params == {"level": level.value, "target_id": target_id}
    db.session.rollback()
    assert _every_row() == before


def test_removing_what_is_assigned_removes_it_with_an_audit_row(app: Flask, world: World) -> None:
    profile = admin.save_profile(db.session, world.admin_id, admin.ProfileInput(name="Gọi ra"))
    admin.assign_profile(db.session, world.admin_id, Level.BRANCH, world.branch_ids[0],
                         profile.id)
    admin.unassign_profile(db.session, world.admin_id, Level.BRANCH, world.branch_ids[0])
    assert db.session.scalars(select(CallingAssignment.level)).all() == ["organisation"]
    last = db.session.scalars(select(CallingChange).order_by(CallingChange.id.desc())).first()
    assert last is not None and last.changes["profile"] == ["Gọi ra", None]
    with pytest.raises(NotFound):
        admin.unassign_profile(db.session, world.admin_id, Level.BRANCH, world.branch_ids[0])


def test_the_organisation_loses_its_profile_whatever_target_is_named(
    app: Flask, world: World
) -> None:
    admin.unassign_profile(db.session, world.admin_id, Level.ORGANISATION, None)
    assert db.session.scalars(select(CallingAssignment)).all() == []
