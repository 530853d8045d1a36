"""The Kamailio adapter against a running Kamailio, proven with SIP devices."""

from __future__ import annotations

import psycopg
import pytest

from tasks.pbx.kamailio import KamailioPhoneSystem, digest_hashes
from tests.support.pbx import Kamailio
from tests.support.sip import Message, Phone
from workflow.domain.routing import Routing, RoutingType
from workflow.ports import AccountMissing, PhoneAccount

SECRET = "mat-khau-sip-thu"


def device(kamailio: Kamailio, made: list[Phone], username: str, password: str = SECRET) -> Phone:
    """A SIP device for `username`, closed after the test."""
    made.append(Phone(username, password, kamailio.domain, kamailio.sip))
    return made[-1]


def caller(kamailio: Kamailio, made: list[Phone], username: str,
           password: str = SECRET) -> Phone:
    """A colleague's phone: a subscriber of the domain, who must authenticate to call."""
    ha1, ha1b = digest_hashes(username, kamailio.domain, SECRET)
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO subscriber (username, domain, ha1, ha1b) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING", (username, kamailio.domain, ha1, ha1b))
    return device(kamailio, made, username, password)


def rings(colleague: Phone, extension: str, callee: Phone) -> Message:
    """Dial `extension` from `colleague`; the INVITE `callee` receives (it says 180)."""
    colleague.dial(extension)
    invite = callee.ring()
    assert invite is not None and invite.method == "INVITE", f"{extension} did not ring"
    return invite


def test_a_new_account_registers_and_its_extension_reaches_it(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    assert pbx.ensure_account(PhoneAccount("agnew1", "5101", Routing(), SECRET), 1) is True
    assert pbx.ensure_account(PhoneAccount("agnew1", "5101", Routing(), SECRET), 1) is False
    agent = device(kamailio, devices, "agnew1")
    assert agent.register() == 200
    assert device(kamailio, devices, "agnew1", "wrong").register() == 401
    colleague = caller(kamailio, devices, "caller1")
    invite = rings(colleague, "5101", agent)
    agent.answer(invite, 486, "Busy Here")
    assert colleague.outcome() == 486


def test_renumbering_keeps_the_device_and_the_old_number_stops_routing(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    pbx.ensure_account(PhoneAccount("agchg1", "5201", Routing(), SECRET), 1)
    agent = device(kamailio, devices, "agchg1")
    assert agent.register() == 200
    assert pbx.ensure_account(PhoneAccount("agchg1", "5656", Routing()), 2) is True
    colleague = caller(kamailio, devices, "caller2")
    colleague.dial("5656")
    invite = agent.ring()
    assert invite is not None  # the same credentials and registration, a new number
    agent.answer(invite, 486, "Busy Here")
    assert colleague.outcome() == 486
    colleague.dial("5201")
    assert colleague.outcome() == 404


def test_app_web_rings_every_registered_device_at_once(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    pbx.ensure_account(PhoneAccount("agpar1", "5301", Routing(RoutingType.APP_WEB), SECRET), 1)
    app, web = device(kamailio, devices, "agpar1"), device(kamailio, devices, "agpar1")
    assert app.register() == 200 and web.register() == 200
    colleague = caller(kamailio, devices, "caller3")
    colleague.dial("5301")
    rang = [app.ring(), web.ring()]
    assert all(invite is not None for invite in rang)
    for phone, invite in zip((app, web), rang, strict=True):
        assert invite is not None
        phone.answer(invite, 486, "Busy Here")
    assert colleague.outcome() == 486


def test_revoking_drops_the_registration_at_once_and_refuses_a_new_one(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    pbx.ensure_account(PhoneAccount("agrev1", "5401", Routing(), SECRET), 1)
    agent = device(kamailio, devices, "agrev1")
    assert agent.register() == 200
    assert pbx.remove_account("agrev1", 2) is True
    assert "agrev1" not in str(kamailio.rpc("ul.dump"))
    assert agent.register() == 401
    colleague = caller(kamailio, devices, "caller4")
    colleague.dial("5401")
    assert colleague.outcome() == 404
    assert pbx.remove_account("agrev1", 2) is False  # ensure semantics: already gone


def test_a_new_password_locks_out_the_old_one_and_its_registered_devices(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    pbx.ensure_account(PhoneAccount("agpwd1", "5701", Routing(), SECRET), 1)
    lost_phone = device(kamailio, devices, "agpwd1")
    assert lost_phone.register() == 200
    assert pbx.ensure_account(PhoneAccount("agpwd1", "5701", Routing(), "moi-hon"), 2) is True
    # The device that knew the old password is signed out at once and cannot come back
    assert "agpwd1" not in str(kamailio.rpc("ul.dump"))
    assert lost_phone.register() == 401
    assert device(kamailio, devices, "agpwd1", "moi-hon").register() == 200
    # Keeping the password (no secret given) changes nothing and signs nobody out
    assert pbx.ensure_account(PhoneAccount("agpwd1", "5701", Routing()), 3) is False
    assert "agpwd1" in str(kamailio.rpc("ul.dump"))


def test_an_account_is_never_created_without_a_password(pbx: KamailioPhoneSystem) -> None:
    with pytest.raises(AccountMissing):
        pbx.ensure_account(PhoneAccount("agnone1", "5801", Routing()), 1)
    assert "agnone1" not in pbx.accounts()


def test_a_call_from_the_domain_without_the_right_password_rings_nobody(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    pbx.ensure_account(PhoneAccount("agsec1", "5601", Routing(), SECRET), 1)
    agent = device(kamailio, devices, "agsec1")
    assert agent.register() == 200
    intruder = caller(kamailio, devices, "caller6", password="guessed")
    intruder.dial("5601")
    assert intruder.outcome() == 407  # challenged again: the proxy never forwards it
    assert agent.ring(timeout=0.5) is None


def test_a_contact_naming_another_host_still_rings_the_device_that_registered(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    # A device registers with a Contact naming a "gateway" and an international number, to
    # turn calls to its extension into calls there.
    pbx.ensure_account(PhoneAccount("aghij1", "5901", Routing(), SECRET), 1)
    gateway = device(kamailio, devices, "gateway")
    agent = device(kamailio, devices, "aghij1")
    assert agent.register(contact=f"sip:+88216000111@{gateway.address}") == 200
    colleague = caller(kamailio, devices, "caller9")
    # The call reaches the device the REGISTER came from, never the host its Contact named.
    invite = rings(colleague, "5901", agent)
    assert gateway.receive(timeout=1.0) is None
    agent.answer(invite, 486, "Busy Here")
    assert colleague.outcome() == 486


def test_revoking_ends_the_agents_calls_in_progress(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    pbx.ensure_account(PhoneAccount("agend1", "5951", Routing(), SECRET), 1)
    agent = device(kamailio, devices, "agend1")
    assert agent.register() == 200
    colleague = caller(kamailio, devices, "caller10")
    invite = rings(colleague, "5951", agent)
    agent.accept(invite)
    assert colleague.outcome() == 200
    colleague.ack()
    assert pbx.remove_account("agend1", 2) is True
    # Both sides are hung up by the proxy: the call does not go on after the revoke. (The
    # caller answers its BYE only once the agent has had its own: see kamailio/kamailio#4169
    # in test_calling_enforcement.)
    bye_to_caller = colleague.hung_up(timeout=10.0, confirm=False)
    assert bye_to_caller is not None, "the caller's side went on"
    assert agent.hung_up(timeout=10.0) is not None, "the agent's side went on"
    colleague.confirm_bye(bye_to_caller)
