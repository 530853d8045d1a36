"""Carrier trunks and DIDs: validated per field, ordered, audited without the password,
encrypted at rest, each change asking for a sync that hands them to the phone system."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tasks.runtime import runtime
from tests.support.world import World
from web.extensions import db
from workflow.calling import admin, gateways, trunks
from workflow.calling.trunks import TrunkInput
from workflow.domain.errors import RuleViolation
from workflow.models.calling import CallingChange, CallingSync, Trunk
from workflow.ports import Cipher

PASSWORD = "mat-khau;nha=mang%"


def cipher(app: Flask) -> Cipher:
    """The app's cipher, as the pages and the sync use it."""
    return runtime(app).provisioning.vault.cipher


def vnpt(**changes: object) -> TrunkInput:
    """A valid trunk, with some fields changed."""
    fields = {"name": "VNPT", "address": "203.162.4.1", "number": "028 7300 1234"}
    return TrunkInput(**{**fields, **changes})  # type: ignore[arg-type]


def problems(error: pytest.ExceptionInfo[RuleViolation]) -> dict[str, list[str]]:
    """The problem codes of a refusal, by field."""
    return {name: [each.code for each in found] for name, found in error.value.problems.items()}


def test_every_bad_field_is_named_at_once(app: Flask, world: World) -> None:
    with pytest.raises(RuleViolation) as refused:
        trunks.save_trunk(db.session, world.admin_id, cipher(app), TrunkInput(
            name="x\x00y", address="vnpt.vn", number="12", port=70_000, transport="sctp",
            number_format="local", position=0, auth_password="p\nq"))
    assert problems(refused) == {
        "name": ["text_unsafe"], "address": ["trunk_address_invalid"],
        "number": ["phone_invalid"], "port": ["trunk_port_range"],
        "transport": ["trunk_transport_unknown"], "number_format": ["trunk_format_unknown"],
        "position": ["trunk_position_range"], "auth_password": ["trunk_password_unsafe"]}
    with pytest.raises(RuleViolation) as refused:
        trunks.save_trunk(db.session, world.admin_id, cipher(app),
                          vnpt(name="a" * 3_000_000, address="1" * 100, auth_username="sip"))
    assert problems(refused) == {"name": ["text_too_long"], "address": ["trunk_address_invalid"],
                                 "auth_password": ["trunk_password_required"]}
    with pytest.raises(RuleViolation) as refused:
        trunks.save_trunk(db.session, world.admin_id, cipher(app),
                          vnpt(address="fe80::1%eth0", auth_password="p"))
    assert problems(refused) == {"address": ["trunk_address_invalid"],
                                 "auth_username": ["trunk_username_required"]}
    # Digest credentials are what the carrier accepts: printable ASCII
    with pytest.raises(RuleViolation) as refused:
        trunks.save_trunk(db.session, world.admin_id, cipher(app), vnpt(
            auth_username="tổng đài", auth_password="mật khẩu", auth_realm="vnpt.việt"))
    assert problems(refused) == {"auth_username": ["trunk_credential_ascii"],
                                 "auth_password": ["trunk_credential_ascii"],
                                 "auth_realm": ["trunk_credential_ascii"]}
    assert db.session.scalar(select(func.count()).select_from(Trunk)) == 0


def test_a_trunk_is_stored_normalised_its_password_encrypted_and_audited_without_it(
    app: Flask, world: World
) -> None:
    syncs = db.session.scalar(select(func.count()).select_from(CallingSync))
    saved = trunks.save_trunk(db.session, world.admin_id, cipher(app), vnpt(
        address=" 2001:0db8:0000::0010 ", auth_username="agentdesk", auth_password=PASSWORD,
        auth_realm="sip.vnpt.vn"))
    assert (saved.address, saved.number, saved.position) == ("2001:db8::10", "+842873001234", 1)
    stored = db.session.execute(text("SELECT auth_password_sealed FROM trunk")).scalar_one()
    assert PASSWORD not in stored and PASSWORD.encode() not in stored.encode()
    assert cipher(app).decrypt(stored.encode()).decode() == PASSWORD
    change = db.session.scalars(select(CallingChange).where(CallingChange.subject == "trunk")).one()
    assert change.changes["auth_password"] == [None, True]
    assert PASSWORD not in str(change.changes)
    assert db.session.scalar(select(func.count()).select_from(CallingSync)) == syncs + 1
    # An empty password on edit keeps the stored one; a new one shows as changed, not its value.
    trunks.save_trunk(db.session, world.admin_id, cipher(app),
                      trunks.input_of(saved), saved.id)
    assert db.session.get_one(Trunk, saved.id).auth_password_sealed == stored
    trunks.save_trunk(db.session, world.admin_id, cipher(app), TrunkInput(
        **{**trunks.input_of(saved).__dict__, "auth_password": "moi;2"}), saved.id)
    last = db.session.scalars(select(CallingChange).order_by(CallingChange.id.desc())).first()
    assert last is not None and last.changes == {"auth_password": [True, True]}
    [gateway] = gateways.gateways(db.session, cipher(app))
    assert (gateway.auth_username, gateway.auth_password) == ("agentdesk", "moi;2")
    assert "mới" not in repr(gateway)


def test_trunks_keep_an_order_that_moves_and_closes_up(app: Flask, world: World) -> None:
    ids = [trunks.save_trunk(db.session, world.admin_id, cipher(app),
                             vnpt(name=name, address=f"10.0.0.{index}")).id
           for index, name in enumerate(("A", "B", "C"), start=1)]
    early = trunks.save_trunk(db.session, world.admin_id, cipher(app),
                              vnpt(name="D", address="10.0.0.4", position=1))
    order = [(row.name, row.position) for row in trunks.list_trunks(db.session)]
    assert order == [("D", 1), ("A", 2), ("B", 3), ("C", 4)]
    trunks.move_trunk(db.session, world.admin_id, early.id, 3)
    assert [row.name for row in trunks.list_trunks(db.session)] == ["A", "B", "D", "C"]
    trunks.delete_trunk(db.session, world.admin_id, ids[1])
    assert [(row.name, row.position) for row in trunks.list_trunks(db.session)] == [
        ("A", 1), ("D", 2), ("C", 3)]
    trunks.set_enabled(db.session, world.admin_id, ids[0], False)
    assert [each.enabled for each in gateways.gateways(db.session, cipher(app))] == [
        False, True, True]
    with pytest.raises(RuleViolation) as refused:
        trunks.save_trunk(db.session, world.admin_id, cipher(app), vnpt(name="A"))
    assert problems(refused) == {"name": ["trunk_name_taken"]}


def test_a_hotline_rings_an_extension_of_the_policy(app: Flask, world: World) -> None:
    with pytest.raises(RuleViolation) as refused:
        admin.save_hotline(db.session, world.admin_id, "02873001234", "CSKH", extension="601")
    assert problems(refused) == {"extension": ["extension_length", "extension_prefix"]}
    with pytest.raises(RuleViolation) as refused:
        admin.save_hotline(db.session, world.admin_id, "02873001234", "CSKH",
                           extension="5\x001" * 1_000_000)
    assert problems(refused) == {"extension": ["extension_digits"]}
    line = admin.save_hotline(db.session, world.admin_id, "02873001234", "CSKH",
                              extension=" 5 101 ")
    assert gateways.dids(db.session) == {"+842873001234": "5101"}
    admin.save_hotline(db.session, world.admin_id, line.number, line.label, line.id, None)
    assert gateways.dids(db.session) == {}
    trail = [each.changes.get("extension") for each in db.session.scalars(
        select(CallingChange).where(CallingChange.subject == "hotline")
        .order_by(CallingChange.id))]
    assert trail == [[None, "5101"], ["5101", None]]
