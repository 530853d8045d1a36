"""Calling-function data written through the admin services."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.support.world import World
from web.extensions import db
from workflow.calling import admin
from workflow.calling.admin import ProfileInput
from workflow.models.calling import CallingProfile


def sales_profile(world: World, **fields: Any) -> CallingProfile:
    """A "Telesales" profile with a hotline: mobiles and landlines, 10 minutes a call."""
    line = admin.save_hotline(db.session(), world.admin_id, "02473005678", "Bán hàng")
    telesales = ProfileInput(
        name="Telesales", outgoing=True, classes=("internal", "mobile", "landline"),
        hotline_ids=(line.id,), default_hotline_id=line.id, max_outgoing_seconds=600)
    return admin.save_profile(db.session(), world.admin_id, replace(telesales, **fields))
