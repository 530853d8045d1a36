"""Calling profiles and job roles are listed in Vietnamese dictionary order, as people are."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.pages import signed_in_as, text_of
from tests.support.world import World
from web.extensions import db
from workflow.calling import admin
from workflow.calling.admin import ProfileInput
from workflow.domain.calling_rules import Level

#: Stored in byte order's worst case; read in the order of a Vietnamese dictionary:
#: e before i decides "Kế toán" before "Kinh doanh", and Đ comes after D, before E, not after Z.
NAMES = ["Zalo", "Kinh doanh", "Đào tạo", "Kế toán", "Em bé", "Dịch vụ"]
EXPECTED = ["Dịch vụ", "Đào tạo", "Em bé", "Kế toán", "Kinh doanh", "Zalo"]


def order_in(page: str) -> list[str]:
    """The names of `NAMES` in the order they first appear in `page`."""
    assert all(name in page for name in NAMES), page
    return sorted(NAMES, key=page.index)


def test_profiles_and_roles_are_sorted_as_in_a_vietnamese_dictionary(
    app: Flask, world: World
) -> None:
    for name in NAMES:
        admin.save_profile(db.session(), world.admin_id, ProfileInput(name=name))
        admin.save_job_role(db.session(), world.admin_id, name)
    client: FlaskClient = signed_in_as(app, world, "admin")
    assert order_in(text_of(client.get("/admin/calling"))) == EXPECTED
    assert order_in(text_of(client.get("/admin/calling/roles"))) == EXPECTED
    assignments = text_of(client.get("/admin/calling/assignments"))
    profile_select = assignments[assignments.index('name="organisation-profile_id"'):]
    assert order_in(profile_select[:profile_select.index("</select>")]) == EXPECTED
    role_select = assignments[assignments.index('name="role-target_id"'):]
    assert order_in(role_select[:role_select.index("</select>")]) == EXPECTED
    employee_form = text_of(client.get(f"/admin/employees/{world.employee_ids[0]}"))
    role_choices = employee_form[employee_form.index('name="job_role_id"'):]
    assert order_in(role_choices[:role_choices.index("</select>")]) == EXPECTED
    listed = client.get("/api/v1/calling/profiles").get_json()
    assert [row["name"] for row in listed if row["name"] in NAMES] == EXPECTED


def test_assignments_are_listed_by_their_target_in_vietnamese_order(
    app: Flask, world: World
) -> None:
    profile = admin.save_profile(db.session(), world.admin_id, ProfileInput(name="Chung"))
    for name in NAMES:
        role = admin.save_job_role(db.session(), world.admin_id, name)
        admin.assign_profile(db.session(), world.admin_id, Level.ROLE, role.id, profile.id)
    client = signed_in_as(app, world, "admin")
    page = text_of(client.get("/admin/calling/assignments"))
    table = page[page.index("<table"):]
    assert order_in(table) == EXPECTED
