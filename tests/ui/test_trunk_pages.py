"""The trunk pages and hotline edits: list in order, add, edit (password never shown, kept
when left empty), move, disable, delete after confirming; Vietnamese first, English too."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tests.support.pages import csrf_token, in_english, signed_in_as, text_of
from tests.support.world import World
from web.extensions import db
from workflow.models.calling import Hotline, Trunk

NEW = "/admin/calling/trunks/new"
PASSWORD = "mat-khau-nha-mang"


def add(client: object, **fields: str) -> str:
    """Post the new-trunk form; the page it leads to."""
    data = {"name": "VNPT", "address": "203.162.4.1", "port": "5060", "transport": "udp",
            "number_format": "e164", "number": "02873001234", "enabled": "y", **fields}
    return text_of(client.post(NEW, data={**data, "csrf_token": csrf_token(client, NEW)},  # type: ignore[attr-defined]
                               follow_redirects=True))


def test_admins_manage_trunks_in_order_without_seeing_passwords(app: Flask, world: World) -> None:
    client = signed_in_as(app, world, "admin")
    page = add(client, auth_username="agentdesk", auth_password=PASSWORD)
    assert "Đã lưu trunk VNPT." in page and "đã đặt mật khẩu" in page
    assert PASSWORD not in page
    page = add(client, name="Viettel", address="2001:db8::10", position="1")
    assert page.index("Viettel") < page.index("203.162.4.1")
    vnpt = db.session.scalars(select(Trunk).where(Trunk.name == "VNPT")).one()
    edit = f"/admin/calling/trunks/{vnpt.id}"
    form = text_of(client.get(edit))
    assert 'value="agentdesk"' in form and PASSWORD not in form and "Mật khẩu: đã đặt" in form
    sealed = vnpt.auth_password_sealed
    client.post(edit, data={"name": "VNPT HCM", "address": "203.162.4.1", "port": "5062",
                            "transport": "tcp", "number_format": "national",
                            "number": "02873001234", "position": "2",
                            "auth_username": "agentdesk", "auth_password": "",
                            "enabled": "y", "csrf_token": csrf_token(client, edit)})
    db.session.expire_all()
    vnpt = db.session.get_one(Trunk, vnpt.id)
    assert (vnpt.name, vnpt.port, vnpt.transport, vnpt.auth_password_sealed) == (
        "VNPT HCM", 5062, "tcp", sealed)
    token = csrf_token(client, "/admin/calling/trunks")
    client.post(f"{edit}/up", data={"csrf_token": token})
    client.post(f"{edit}/disable", data={"csrf_token": token})
    db.session.expire_all()
    assert [(row.name, row.position, row.enabled) for row in db.session.scalars(
        select(Trunk).order_by(Trunk.position))] == [("VNPT HCM", 1, False), ("Viettel", 2, True)]
    confirm = text_of(client.post(f"{edit}/delete", data={"csrf_token": token}))
    assert "Xoá trunk VNPT HCM?" in confirm
    assert db.session.scalar(select(Trunk.id).where(Trunk.id == vnpt.id)) == vnpt.id
    client.post(f"{edit}/delete", data={"csrf_token": token, "confirm": "yes"})
    db.session.expire_all()
    assert [row.name for row in db.session.scalars(select(Trunk))] == ["Viettel"]


def test_bad_trunks_get_messages_by_field_in_the_users_language(
    app: Flask, world: World
) -> None:
    client = signed_in_as(app, world, "admin")
    page = add(client, address="vnpt.vn", port="0", auth_password="x")
    assert "Địa chỉ phải là một địa chỉ IP" in page
    assert "Cổng phải từ 1 đến 65535." in page
    assert "Có mật khẩu thì phải có tên đăng nhập." in page
    in_english(client)
    page = add(client, address="vnpt.vn", number="12")
    assert "The address must be the carrier" in page
    assert "12 is not a valid phone number." in page
    long = client.post(NEW, data={"name": "a" * 5000, "address": "10.0.0.1",
                                  "number": "02873001234", "transport": "udp",
                                  "number_format": "e164", "csrf_token": csrf_token(client, NEW)})
    assert long.status_code == 200 and "is-invalid" in text_of(long)
    hostile = add(client, name="VNPT\u202e")
    assert "The name must not contain control characters or line breaks (U+202E)." in hostile
    assert db.session.scalar(select(Trunk.id)) is None
    assert signed_in_as(app, world, "requester").get("/admin/calling/trunks").status_code == 403


def test_a_hotline_is_given_the_extension_an_incoming_call_rings(
    app: Flask, world: World
) -> None:
    client = signed_in_as(app, world, "admin")
    hotlines = "/admin/calling/hotlines"
    page = text_of(client.post(hotlines, data={
        "number": "02873001234", "label": "CSKH", "extension": "5101",
        "csrf_token": csrf_token(client, hotlines)}, follow_redirects=True))
    assert "5101" in page
    line = db.session.scalars(select(Hotline)).one()
    edit = f"{hotlines}/{line.id}"
    refused = text_of(client.post(edit, data={"number": line.number, "label": "CSKH",
                                              "extension": "601",
                                              "csrf_token": csrf_token(client, edit)}))
    assert "Số máy lẻ phải có đúng 4 chữ số." in refused
    client.post(edit, data={"number": line.number, "label": "CSKH", "extension": "",
                            "csrf_token": csrf_token(client, edit)})
    db.session.expire_all()
    assert db.session.get_one(Hotline, line.id).extension is None
