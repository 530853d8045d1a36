"""Calling rules re-applied to the phone system after each change, idempotently, with progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, update

from tasks.relay import sweep_once
from tasks.runtime import runtime
from tests.support.api import ApiClient
from tests.support.apps import drain
from tests.support.world import World, provision, submit
from web.extensions import db
from workflow.calling import admin, sync
from workflow.calling.admin import ProfileInput
from workflow.domain.calling_rules import Level
from workflow.models import DirectoryEntry, DirectoryWrite, Employee, OutboxMessage, utcnow
from workflow.models.calling import CallingSync
from workflow.people.structure import save_employee


def calling_on_switchboard() -> dict[str, dict | None]:
    """The calling rules the built-in directory holds, by SIP username."""
    db.session.expire_all()
    return dict(db.session.execute(select(DirectoryEntry.sip_username,
                                          DirectoryEntry.calling)).all())


def agents(app: Flask, world: World, count: int) -> None:
    """`count` provisioned agents, one per employee."""
    for index in range(count):
        provision(app, world, submit(world, employee_id=world.employee_ids[index],
                                     extension=f"50{index + 1:02d}"))


def internal_only(world: World) -> int:
    """A profile allowing internal calls only; its id."""
    return admin.save_profile(db.session, world.admin_id, ProfileInput(
        name="Chỉ nội bộ", classes=("internal",))).id


def test_new_agents_carry_their_rules_and_a_change_re_applies_them_to_everyone_affected(
    app: Flask, world: World
) -> None:
    agents(app, world, 3)
    held = calling_on_switchboard()
    assert {each["outgoing"] for each in held.values()} == {True}  # the default profile

    profile_id = internal_only(world)
    admin.assign_profile(db.session, world.admin_id, Level.ORGANISATION, None, profile_id)
    drain(app)

    held = calling_on_switchboard()
    assert {tuple(each["classes"]) for each in held.values()} == {("internal",)}
    assert {each["outgoing"] for each in held.values()} == {False}
    last = db.session.scalars(select(CallingSync).order_by(CallingSync.id.desc())).first()
    assert last is not None and last.finished_at is not None
    assert (last.total, last.done, last.changed) == (3, 3, 3)
    # Every promised sync was handled: finished, or left to the newer one
    assert db.session.scalar(select(func.count()).select_from(CallingSync).where(
        CallingSync.finished_at.is_(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.processed_at.is_(None))) == 0


def test_running_a_sync_again_changes_nothing(app: Flask, world: World) -> None:
    agents(app, world, 2)
    sync_id = sync.request_sync(db.session, None)
    db.session.commit()
    drain(app)
    writes = db.session.scalar(select(func.count()).select_from(DirectoryWrite))
    # The same sync, handed out again after its worker "died"
    db.session.execute(update(CallingSync).where(CallingSync.id == sync_id).values(
        finished_at=None, lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    deps = runtime(app)
    assert sync.run_sync(db.session(), sync_id, deps.phone_system, deps.provisioning.lease,
                         deps.timezone, deps.provisioning.vault.cipher) is True
    done = db.session.get_one(CallingSync, sync_id)
    assert (done.total, done.done, done.changed) == (2, 2, 0)
    assert db.session.scalar(select(func.count()).select_from(DirectoryWrite)) == writes


def test_an_older_sync_leaves_the_work_to_a_newer_one(app: Flask, world: World) -> None:
    agents(app, world, 1)
    older = sync.request_sync(db.session, None)
    newer = sync.request_sync(db.session, None)
    db.session.commit()
    deps = runtime(app)
    assert sync.run_sync(db.session(), older, deps.phone_system, deps.provisioning.lease,
                         deps.timezone, deps.provisioning.vault.cipher) is False
    assert db.session.get_one(CallingSync, older).superseded is True
    assert sync.run_sync(db.session(), newer, deps.phone_system, deps.provisioning.lease,
                         deps.timezone, deps.provisioning.vault.cipher) is True


def test_a_sync_whose_worker_died_is_sent_again_by_the_sweeper(app: Flask, world: World) -> None:
    agents(app, world, 1)
    sync_id = sync.request_sync(db.session, None)
    db.session.commit()
    # Its message was lost and its promised start is long past
    db.session.execute(update(CallingSync).where(CallingSync.id == sync_id).values(
        created_at=utcnow() - timedelta(minutes=5)))
    db.session.execute(update(OutboxMessage).values(processed_at=utcnow()))
    db.session.commit()
    assert sync_id in sync.stuck_syncs(db.session, timedelta(seconds=10))
    assert sweep_once(runtime(app)) >= 1
    drain(app)
    assert db.session.get_one(CallingSync, sync_id).finished_at is not None
    assert sync.stuck_syncs(db.session, timedelta(seconds=10)) == []


def test_the_progress_of_syncs_is_in_the_api(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    agents(app, world, 2)
    internal_only(world)
    drain(app)
    listed = api("admin").get("/api/v1/calling/syncs").json
    assert listed[0]["total"] == 2 and listed[0]["done"] == 2
    assert listed[0]["finished_at"] is not None


def test_moving_an_agent_to_another_department_brings_its_profile_along(
    app: Flask, world: World
) -> None:
    agents(app, world, 1)
    profile_id = internal_only(world)
    target = world.department_ids[1]  # another department of the same branch
    admin.assign_profile(db.session, world.admin_id, Level.DEPARTMENT, target, profile_id)
    drain(app)
    assert {each["outgoing"] for each in calling_on_switchboard().values()} == {True}

    employee = db.session.get_one(Employee, world.employee_ids[0])
    save_employee(db.session, employee.id, target, employee.full_name, actor_id=world.admin_id)
    drain(app)

    assert [each["classes"] for each in calling_on_switchboard().values()] == [["internal"]]
