"""Carrier trunks and DIDs through the API: admins only, field-level errors, write-only
password, partial updates, order, deletion."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from tests.support.api import ApiClient
from tests.support.world import World
from web.extensions import db
from workflow.models.calling import CallingChange, Trunk

TRUNKS = "/api/v1/calling/trunks"
VNPT = {"name": "VNPT", "address": "203.162.4.1", "number": "02873001234",
        "auth_username": "agentdesk", "auth_password": "bi mat;=%"}


def test_only_admins_see_or_change_trunks(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    requester = api("requester")
    assert requester.get(TRUNKS).status_code == 403
    assert requester.post(TRUNKS, VNPT).status_code == 403
    made = api("admin").post(TRUNKS, VNPT)
    assert made.status_code == 201, made.json
    assert requester.client.delete(f"{TRUNKS}/{made.json['id']}",
                                   headers=requester.headers).status_code == 403
    assert db.session.scalar(select(Trunk.name)) == "VNPT"


def test_a_trunk_is_added_read_changed_and_removed_without_its_password_shown(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    admin = api("admin")
    made = admin.post(TRUNKS, VNPT)
    assert made.status_code == 201, made.json
    body = made.json
    assert "auth_password" not in body and body["auth_password_set"] is True
    assert (body["number"], body["port"], body["transport"], body["position"],
            body["number_format"], body["enabled"]) == ("+842873001234", 5060, "udp", 1,
                                                        "e164", True)
    second = admin.post(TRUNKS, {"name": "Viettel", "address": "2001:db8::10",
                                 "number": "+842473005678", "transport": "tls", "port": 5061,
                                 "position": 1, "number_format": "national"})
    assert second.status_code == 201, second.json
    listed = admin.get(TRUNKS).json
    assert [(each["name"], each["position"]) for each in listed] == [("Viettel", 1), ("VNPT", 2)]
    assert "bi mat" not in admin.get(TRUNKS).get_data(as_text=True)
    sealed = db.session.scalar(select(Trunk.auth_password_sealed).where(Trunk.name == "VNPT"))
    # PATCH: only what is sent changes; the password stays.
    patched = admin.client.patch(f"{TRUNKS}/{body['id']}", json={"enabled": False,
                                                                   "position": 1},
                                 headers=admin.headers)
    assert patched.status_code == 200, patched.json
    assert (patched.json["enabled"], patched.json["position"],
            patched.json["auth_password_set"]) == (False, 1, True)
    db.session.expire_all()
    assert db.session.scalar(select(Trunk.auth_password_sealed)
                             .where(Trunk.name == "VNPT")) == sealed
    # PUT without credentials removes them.
    replaced = admin.put(f"{TRUNKS}/{body['id']}", json={**VNPT, "auth_username": "",
                                                          "auth_password": ""})
    assert replaced.status_code == 200 and replaced.json["auth_password_set"] is False
    assert admin.get(f"{TRUNKS}/{body['id']}").json["auth_username"] is None
    gone = admin.client.delete(f"{TRUNKS}/{second.json['id']}", headers=admin.headers)
    assert gone.status_code == 204
    assert admin.get(f"{TRUNKS}/{second.json['id']}").status_code == 404
    assert [each["position"] for each in admin.get(TRUNKS).json] == [1]
    trail = [each.changes for each in db.session.scalars(
        select(CallingChange).where(CallingChange.subject == "trunk"))]
    assert trail and "bi mat" not in str(trail)


def test_bad_trunks_get_field_level_errors_in_the_users_language(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    admin = api("admin")
    bad = admin.post(TRUNKS, {"name": "X", "address": "carrier.example", "number": "12",
                              "auth_username": "u"}, headers={"Accept-Language": "en"})
    assert bad.status_code == 422
    assert bad.json["errors"] == {
        "address": ["The address must be the carrier's IP address (IPv4 or IPv6)."],
        "number": ["12 is not a valid phone number."],
        "auth_password": ["Please enter the password for this username."]}
    long = admin.post(TRUNKS, {**VNPT, "auth_password": "x" * 129})
    assert long.status_code == 422 and list(long.json["errors"]) == ["auth_password"]
    control = admin.post(TRUNKS, {**VNPT, "auth_password": "a\x07b"})
    assert control.status_code == 422
    assert list(control.json["errors"]) == ["auth_password"]
    vietnamese = admin.post(TRUNKS, {**VNPT, "port": 0, "transport": "sctp"})
    assert vietnamese.status_code == 422
    assert set(vietnamese.json["errors"]) == {"port", "transport"}
    hostile = admin.post(TRUNKS, {**VNPT, "name": "ab\u202e" * 30})
    assert hostile.status_code == 422, hostile.json
    assert set(hostile.json["errors"]) == {"name"}
    huge = admin.post(TRUNKS, {**VNPT, "auth_realm": "r" * 2_000_000})
    assert huge.status_code in (413, 422)
    assert admin.client.patch(f"{TRUNKS}/999", json={"enabled": False},
                              headers=admin.headers).status_code == 404


def test_a_hotline_is_given_the_extension_it_rings(
    app: Flask, world: World, api: Callable[[str], ApiClient]
) -> None:
    admin = api("admin")
    made = admin.post("/api/v1/calling/hotlines", {"number": "02873001234", "extension": "5101"})
    assert made.status_code == 201 and made.json["extension"] == "5101"
    wrong = admin.put(f"/api/v1/calling/hotlines/{made.json['id']}",
                      json={"number": "02873001234", "extension": "5000"},
                      headers={"Accept-Language": "en"})
    assert wrong.status_code == 422
    assert wrong.json["errors"] == {
        "extension": ["This extension is reserved."]}
    cleared = admin.put(f"/api/v1/calling/hotlines/{made.json['id']}",
                        json={"number": "02873001234", "label": "CSKH", "extension": None})
    assert cleared.status_code == 200 and cleared.json["extension"] is None
    assert [each["extension"] for each in admin.get("/api/v1/calling/hotlines").json] == [None]
