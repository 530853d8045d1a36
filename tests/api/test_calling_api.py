"""Calling functions through the API: profiles, hotlines, assignments, checks, forwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from flask import Flask
from sqlalchemy import select

from tests.support.api import ApiClient, new_ticket
from tests.support.apps import drain
from tests.support.world import World
from web.extensions import db
from workflow.models import Agent
from workflow.models.calling import CallingChange, WorkingPeriod

PHONE = {"type": "phone", "priority_number": "0912345678", "backup_number": "02437654321"}


def provisioned(client: ApiClient, app: Flask, world: World, api: Callable[[str], ApiClient],
                index: int = 0, **fields: object) -> Agent:
    """A new agent for employee `index`, approved and provisioned."""
    ticket = new_ticket(client, world, index, **fields)
    assert api("approver").post(f"/api/v1/tickets/{ticket['id']}/approve").status_code == 200
    drain(app)
    return db.session.scalars(select(Agent).where(Agent.employee_id ==
                                                  world.employee_ids[index])).one()


def hotline(admin: ApiClient, number: str = "02873001234") -> int:
    """Add a company number; its id."""
    made = admin.post("/api/v1/calling/hotlines", {"number": number, "label": "CSKH"})
    assert made.status_code == 201, made.json
    assert made.json["number"] == "+842873001234"
    return int(made.json["id"])


def profile(admin: ApiClient, **fields: object) -> dict:
    """Create a profile; its JSON."""
    made = admin.post("/api/v1/calling/profiles", {"name": "Telesales", **fields})
    assert made.status_code == 201, made.json
    return dict(made.json)


def assign(admin: ApiClient, level: str, target_id: int | None, profile_id: int | None) -> int:
    """PUT an assignment; the status code."""
    return int(admin.put("/api/v1/calling/assignments", json={
        "level": level, "target_id": target_id, "profile_id": profile_id}).status_code)


def test_only_admins_change_calling_functions(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    requester = api("requester")
    assert requester.post("/api/v1/calling/profiles", {"name": "X"}).status_code == 403
    assert requester.post("/api/v1/calling/hotlines", {"number": "02873001234"}
                          ).status_code == 403
    assert assign(requester, "organisation", None, None) == 403
    assert requester.get("/api/v1/calling/profiles").status_code == 200


def test_bad_profiles_get_field_level_errors_in_the_users_language(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    admin = api("admin")
    bad = admin.post("/api/v1/calling/profiles", {
        "name": "Xấu", "number_classes": ["mobile", "galaxy"], "max_outgoing_seconds": 0,
        "default_hotline_id": 7})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) >= {"number_classes.1", "max_outgoing_seconds"}
    line = hotline(admin)
    unlisted = admin.post("/api/v1/calling/profiles", {
        "name": "Xấu", "hotline_ids": [], "default_hotline_id": line},
        headers={"Accept-Language": "en"})
    assert unlisted.status_code == 422
    assert unlisted.json["errors"]["default_hotline_id"] == [
        "The default hotline must be one of the hotlines used."]
    profile(admin)
    taken = admin.post("/api/v1/calling/profiles", {"name": "Telesales"})
    assert taken.status_code == 422
    assert taken.json["errors"]["name"] == ["Đã có hồ sơ gọi tên này."]


def test_the_most_specific_assignment_decides_and_the_agent_shows_where_it_comes_from(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    admin, requester = api("admin"), api("requester")
    agent = provisioned(requester, app, world, api, extension="5001")
    line = hotline(admin)
    sales = profile(admin, outgoing=True, number_classes=["internal", "mobile"],
                    hotline_ids=[line], default_hotline_id=line, after_hours=True,
                    max_outgoing_seconds=600)
    department_id = world.department_ids[0]
    assert assign(admin, "department", department_id, sales["id"]) == 204

    calling = admin.get(f"/api/v1/agents/{agent.id}/calling").json
    assert calling["source"]["level"] == "department"
    assert calling["source"]["target"] == "Kinh doanh"
    assert calling["source"]["profile_name"] == "Telesales"
    assert calling["rules"]["caller_ids"] == ["+842873001234"]

    mobile = requester.get("/api/v1/calling/check?extension=5001&number=0912345678").json
    assert (mobile["allowed"], mobile["reason"], mobile["number_class"]) == (
        True, "allowed", "mobile")
    assert (mobile["caller_id"], mobile["max_seconds"]) == ("+842873001234", 600)
    abroad = requester.get("/api/v1/calling/check?extension=5001&number=%2B14155552671",
                           headers={"Accept-Language": "en"}).json
    assert (abroad["allowed"], abroad["reason"]) == (False, "class_not_allowed")
    assert abroad["message"] == "The calling profile does not allow this kind of number."
    assert requester.get("/api/v1/calling/check?extension=5001&number=113").json[
        "reason"] == "emergency"

    # The agent's own override beats its department; removing it falls back again
    internal_only = profile(admin, name="Chỉ nội bộ", number_classes=["internal"])
    assert assign(admin, "agent", agent.id, internal_only["id"]) == 204
    refused = requester.get("/api/v1/calling/check?extension=5001&number=0912345678").json
    assert (refused["allowed"], refused["reason"]) == (False, "outgoing_off")
    assert refused["effective"]["source"]["level"] == "agent"
    assert assign(admin, "agent", agent.id, None) == 204
    assert admin.get(f"/api/v1/agents/{agent.id}/calling").json["source"]["level"] == (
        "department")

    listed = admin.get("/api/v1/calling/assignments").json
    assert [(each["level"], each["profile_name"]) for each in listed] == [
        ("organisation", "Mặc định"), ("department", "Telesales")]
    trail = db.session.scalars(select(CallingChange.subject).order_by(CallingChange.id)).all()
    assert trail == ["hotline", "profile", "assignment", "profile", "assignment", "assignment"]


def test_out_of_hours_calls_follow_the_working_week(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    admin, requester = api("admin"), api("requester")
    provisioned(requester, app, world, api, extension="5001")
    line = hotline(admin)
    office = profile(admin, outgoing=True, number_classes=["mobile"], hotline_ids=[line],
                     default_hotline_id=line, after_hours=False)
    assert assign(admin, "organisation", None, office["id"]) == 204
    # No working period at all: it is always out of hours
    closed = requester.get("/api/v1/calling/check?extension=5001&number=0912345678").json
    assert (closed["allowed"], closed["reason"]) == (False, "outside_working_hours")
    db.session.add_all(WorkingPeriod(weekday=day, starts=time(0), ends=time(23, 59, 59))
                       for day in range(7))
    db.session.commit()
    opened = requester.get("/api/v1/calling/check?extension=5001&number=0912345678").json
    assert opened["allowed"] is True


def test_a_forward_outside_the_profile_is_refused_at_submit(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    admin, requester = api("admin"), api("requester")
    no_forwarding = profile(admin, name="Không chuyển tiếp", outgoing=True,
                            number_classes=["mobile", "landline"])
    assert assign(admin, "branch", world.branch_ids[0], no_forwarding["id"]) == 204
    refused = requester.post("/api/v1/tickets", {
        "kind": "new", "employee_id": world.employee_ids[0], "routing": PHONE},
        headers={"Accept-Language": "en"})
    assert refused.status_code == 422
    assert refused.json["errors"]["routing.type"] == [
        "This employee's calling profile does not allow forwarding to outside numbers."]

    mobiles_only = profile(admin, name="Chỉ di động", outgoing=True,
                           number_classes=["mobile"], external_forwarding=True)
    assert assign(admin, "branch", world.branch_ids[0], mobiles_only["id"]) == 204
    landline = requester.post("/api/v1/tickets", {
        "kind": "new", "employee_id": world.employee_ids[0], "routing": PHONE})
    assert landline.status_code == 422
    assert landline.json["errors"] == {"routing.backup_number": [
        "Hồ sơ gọi của nhân viên này không cho gọi loại số: cố định trong nước."]}
    # Another branch keeps the organisation default, which forwards anywhere
    other = world.employee_ids[-1]
    assert requester.post("/api/v1/tickets", {"kind": "new", "employee_id": other,
                                              "routing": PHONE}).status_code == 201


def test_a_change_that_would_outlaw_existing_forwards_is_refused_with_the_agents(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    admin, requester = api("admin"), api("requester")
    provisioned(requester, app, world, api, 0, extension="5001", routing=PHONE)
    provisioned(requester, app, world, api, 1, extension="5002", routing=PHONE)
    strict = profile(admin, name="Không chuyển tiếp", outgoing=True, number_classes=["mobile"])
    before = db.session.scalar(select(CallingChange.id).order_by(CallingChange.id.desc()))

    refused = admin.put("/api/v1/calling/assignments", json={
        "level": "organisation", "target_id": None, "profile_id": strict["id"]},
        headers={"Accept-Language": "en"})
    assert refused.status_code == 422
    assert refused.json["errors"]["profile"] == [
        "This change would put 2 forwarding agents outside their calling profile: 5001, 5002. "
        "Change their routing first."]
    listed = admin.get("/api/v1/calling/assignments").json
    assert [each["profile_name"] for each in listed] == ["Mặc định"]  # nothing changed
    assert db.session.scalar(select(CallingChange.id).order_by(CallingChange.id.desc())
                             ) == before  # nor audited

    # Editing the default profile itself is checked the same way
    default = next(each for each in admin.get("/api/v1/calling/profiles").json
                   if each["name"] == "Mặc định")
    edited = admin.put(f"/api/v1/calling/profiles/{default['id']}", json={
        **{key: default[key] for key in ("name", "outgoing", "number_classes", "after_hours",
                                         "max_internal_seconds", "max_outgoing_seconds",
                                         "default_hotline_id")},
        "external_forwarding": False, "version": default["version"]})
    assert edited.status_code == 422 and "5001, 5002" in edited.json["errors"]["profile"][0]
    stale = admin.put(f"/api/v1/calling/profiles/{default['id']}", json={
        "name": "Mặc định", "external_forwarding": True, "outgoing": True,
        "number_classes": default["number_classes"], "version": default["version"] - 1})
    assert stale.status_code == 409


def test_checking_an_unknown_extension_or_a_bad_number(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    requester = api("requester")
    unknown = requester.get("/api/v1/calling/check?extension=5999&number=0912345678",
                            headers={"Accept-Language": "en"})
    assert unknown.status_code == 422
    assert unknown.json["errors"] == {"extension": ["No active agent has extension 5999."]}
    provisioned(requester, app, world, api, extension="5001")
    bad = requester.get("/api/v1/calling/check?extension=5001&number=abc")
    assert bad.status_code == 422 and "number" in bad.json["errors"]
