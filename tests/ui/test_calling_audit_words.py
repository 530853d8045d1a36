"""The calling audit as an admin reads it: a new assignment's level, and quiet sync lists."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, update

from tests.support.calling import sales_profile
from tests.support.pages import signed_in_as, text_of
from tests.support.world import World
from web.extensions import db
from workflow.calling import admin
from workflow.domain.calling_rules import Level
from workflow.models import utcnow
from workflow.models.calling import CallingSync


def test_a_new_assignment_shows_no_level_before_it(app: Flask, world: World) -> None:
    telesales = sales_profile(world)
    admin.assign_profile(db.session(), world.admin_id, Level.DEPARTMENT,
                         world.department_ids[0], telesales.id)
    trail = text_of(signed_in_as(app, world, "admin").get("/admin/calling/changes"))
    assert "Cấp</span>: — → Phòng ban" in trail
    assert "Cấp</span>: Phòng ban → Phòng ban" not in trail


def test_syncs_merged_into_a_newer_one_are_hidden_with_a_count(app: Flask, world: World) -> None:
    for number in ("02473005678", "02473005679", "02473005680"):
        admin.save_hotline(db.session(), world.admin_id, number, "Bán hàng")
    ids = db.session.scalars(select(CallingSync.id).order_by(CallingSync.id)).all()
    assert len(ids) == 3
    db.session.execute(update(CallingSync).where(CallingSync.id.in_(ids[:2]))
                       .values(finished_at=utcnow(), superseded=True))
    db.session.commit()
    client = signed_in_as(app, world, "admin")
    page = text_of(client.get("/admin/calling/changes"))
    assert "Đã gộp vào lần đồng bộ sau" not in page
    assert "2 lần đồng bộ đã gộp vào lần sau được ẩn." in page
    assert 'href="/admin/calling/changes?syncs=all"' in page
    everything = text_of(client.get("/admin/calling/changes?syncs=all"))
    assert everything.count("Đã gộp vào lần đồng bộ sau") == 2
