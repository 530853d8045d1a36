"""Calls with the outside world through a carrier's SIP trunk, with the shipped kamailio.cfg.

Test phones and SIPp play the carrier's gateways (tests/support/carrier.py): the proxy sends
outside numbers to them in the trunk's format, fails over between them, answers their
digest challenge, and takes calls from them only to the hotline numbers agentdesk maps.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.carrier import (
    CARRIER_HOST,
    TRUNK_NUMBER,
    gateway_at,
    gateway_of,
    gateway_phone,
    map_hotline,
    use_gateways,
)
from tests.support.kamailio_profiles import (
    HOTLINE,
    SECRET,
    agent,
    load_dialplan,
    outgoing,
    set_profile,
)
from tests.support.pbx import Kamailio
from tests.support.processes import free_port
from tests.support.sip import Message, Phone
from workflow.domain.routing import Routing, RoutingType
from workflow.ports import PhoneAccount

SIPP_SCENARIOS = Path(__file__).parent / "sipp"


@pytest.fixture(scope="module", autouse=True)
def dialplan(kamailio: Kamailio) -> None:
    """agentdesk's number rules, which the proxy classifies and normalises numbers with."""
    load_dialplan(kamailio)


def invite_for(gateway: Phone, number: str, timeout: float = 3.0) -> Message | None:
    """The next INVITE that reaches `gateway` for `number` (others, e.g. resent, skipped)."""
    while (message := gateway.receive(timeout)) is not None:
        if message.first_line.startswith(f"INVITE sip:{number}@"):
            return message
    return None


def forwarding_agent(kamailio: Kamailio, pbx: KamailioPhoneSystem, username: str,
                     extension: str, priority: str, backup: str | None = None) -> None:
    """An agent whose phone routing forwards to `priority`, then `backup`."""
    routing = Routing(RoutingType.PHONE, priority, backup)
    pbx.ensure_account(PhoneAccount(username, extension, routing, SECRET), 1)


# ---- calls out ----------------------------------------------------------------------------

def test_a_call_out_shows_the_carrier_only_the_number_it_may_show(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agtrk1", "4701")
    set_profile(kamailio, "agtrk1", **outgoing())
    gateway = gateway_phone(kamailio, devices)
    use_gateways(kamailio, gateway_of(gateway))
    caller.dial("0913000101", f"Remote-Party-ID: <sip:+84999999999@{kamailio.domain}>\r\n")
    invite = invite_for(gateway, "+84913000101")
    assert invite is not None
    assert invite.headers["p-asserted-identity"] == [f"<sip:{HOTLINE}@{CARRIER_HOST}>"]
    assert invite.header("from").startswith(f"<sip:{HOTLINE}@{CARRIER_HOST}>")
    assert "remote-party-id" not in invite.headers
    assert "agtrk1" not in invite.header("from")
    gateway.answer(invite, 486, "Busy Here")
    assert caller.outcome() == 486
    # The caller's phone sees its own From again (uac restores it)
    assert "agtrk1" in caller.last_answer.header("from")


def test_a_national_trunk_gets_national_numbers(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agtrk2", "4702")
    set_profile(kamailio, "agtrk2", **outgoing(cos_classes="mobile,international"))
    gateway = gateway_phone(kamailio, devices)
    use_gateways(kamailio, gateway_of(gateway, "national"))
    caller.dial("+84913000102")
    invite = invite_for(gateway, "0913000102")
    assert invite is not None
    assert invite.headers["p-asserted-identity"] == [f"<sip:02838123456@{CARRIER_HOST}>"]
    gateway.answer(invite, 486, "Busy Here")
    assert caller.outcome() == 486
    caller.dial("+14155552671")  # another country: the international prefix 00
    invite = invite_for(gateway, "0014155552671")
    assert invite is not None
    gateway.answer(invite, 486, "Busy Here")
    assert caller.outcome() == 486


def test_a_failing_gateway_hands_the_call_to_the_next(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    caller = agent(kamailio, pbx, devices, "agtrk3", "4703")
    set_profile(kamailio, "agtrk3", **outgoing())
    first, second = gateway_phone(kamailio, devices), gateway_phone(kamailio, devices)
    use_gateways(kamailio, gateway_of(first), gateway_of(second, "national"))
    caller.dial("0913000103")
    refused = invite_for(first, "+84913000103")
    assert refused is not None
    first.answer(refused, 503, "Service Unavailable")
    invite = invite_for(second, "0913000103")  # the next gateway, in its own format
    assert invite is not None
    assert invite.headers["p-asserted-identity"] == [f"<sip:02838123456@{CARRIER_HOST}>"]
    second.answer(invite, 486, "Busy Here")
    assert caller.outcome() == 486


def test_a_carrier_that_authenticates_the_trunk_gets_its_credentials(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone], tmp_path: Path
) -> None:
    caller = agent(kamailio, pbx, devices, "agtrk4", "4704")
    set_profile(kamailio, "agtrk4", **outgoing())
    port = free_port()
    # Separators in the credentials survive the trip through dispatcher attrs
    user, password = "trunk;user=1", "p4ss w;rd=%x"
    use_gateways(kamailio, gateway_at(port, "national", user, password))
    carrier = subprocess.Popen(
        ["sipp", "-sf", str(SIPP_SCENARIOS / "carrier_with_digest.xml"), "-i", CARRIER_HOST,
         "-p", str(port), "-m", "1", "-timeout", "20s", "-timeout_error",
         "-key", "trunk_user", user, "-key", "trunk_password", password, "-trace_err"],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT)
    try:
        caller.dial("0913000123")
        assert caller.outcome(timeout=10.0) == 200  # SIPp answers only a valid digest
        caller.ack()
        caller.hang_up()
        assert caller.outcome() == 200
        assert carrier.wait(20) == 0, sorted(tmp_path.iterdir())
    finally:
        if carrier.poll() is None:
            carrier.kill()


@pytest.mark.parametrize("who_hangs_up", ["agent", "carrier"])
def test_the_carrier_never_sees_the_agents_device_yet_the_call_works_both_ways(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone], who_hangs_up: str
) -> None:
    username = f"agtop{who_hangs_up[0]}"
    caller = agent(kamailio, pbx, devices, username, "4711" if who_hangs_up == "agent"
                   else "4712")
    set_profile(kamailio, username, **outgoing())
    gateway = gateway_phone(kamailio, devices)
    use_gateways(kamailio, gateway_of(gateway))
    caller.dial("0913000111", "User-Agent: Zoiper 5.6.1\r\n")
    invite = invite_for(gateway, "+84913000111")
    assert invite is not None
    device_port = caller.address.rsplit(":", 1)[1]
    routing = {name: invite.headers.get(name, []) for name in ("via", "contact",
                                                              "record-route", "from")}
    # The proxy's Via; the device's only masked (at the documentation address the masked
    # headers name); no device port or SIP username in any routing header
    assert all(via.startswith("SIP/2.0/UDP 192.0.2.1;") for via in routing["via"][1:])
    assert device_port not in str(routing) and username not in str(routing)
    assert "user-agent" not in invite.headers
    gateway.accept(invite)
    assert caller.outcome() == 200
    caller.ack()
    if who_hangs_up == "agent":
        caller.hang_up()
        bye = gateway.hung_up(timeout=5.0)
        assert bye is not None
        assert device_port not in str(bye.headers.get("via"))
        assert caller.outcome() == 200
    else:
        gateway.hang_up_answered(invite)  # along the masked route, back to the device
        assert caller.hung_up(timeout=5.0) is not None
        assert gateway.outcome() == 200


# ---- phone routing: the priority number, then the backup ----------------------------------

@pytest.mark.parametrize("priority_does", ["busy", "not answer", "unreachable",
                                           "gateway silent"])
def test_phone_routing_calls_the_priority_number_then_the_backup(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone], priority_does: str
) -> None:
    case = ["busy", "not answer", "unreachable", "gateway silent"].index(priority_does) + 1
    priority, backup = f"+8491234567{case}", f"+8498765432{case}"
    forwarding_agent(kamailio, pbx, f"agfwd{case}", f"450{case}", priority, backup)
    colleague = agent(kamailio, pbx, devices, f"agcol{case}", f"460{case}")
    set_profile(kamailio, colleague.username, **outgoing())
    silent, gateway = gateway_phone(kamailio, devices), gateway_phone(kamailio, devices)
    if priority_does == "gateway silent":
        use_gateways(kamailio, gateway_of(silent), gateway_of(gateway))
    else:
        use_gateways(kamailio, gateway_of(gateway))
    colleague.dial(f"450{case}")
    if priority_does == "gateway silent":
        # Not even 100 Trying: after NO_ANSWER_MS (3 s here) the next gateway is tried
        assert invite_for(silent, priority) is not None
    first = invite_for(gateway, priority, timeout=10.0)
    assert first is not None
    if priority_does in ("busy", "gateway silent"):
        gateway.answer(first, 486, "Busy Here")
    elif priority_does == "unreachable":
        gateway.answer(first, 480, "Temporarily Unavailable")  # the mobile is switched off
    else:
        gateway.answer(first, 180, "Ringing")  # rings, nobody picks up within NO_ANSWER_MS
    second = invite_for(gateway, backup, timeout=10.0)
    assert second is not None  # the backup rings once the priority number fails
    gateway.answer(second, 486, "Busy Here")
    assert colleague.outcome(timeout=10.0) == 486


# ---- forwards cannot take a caller further than its own profile ---------------------------

def test_a_caller_refused_outside_calls_is_not_forwarded_outside_by_a_colleague(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    forwarding_agent(kamailio, pbx, "agfwd11", "4511", "+84913000111")
    caller = agent(kamailio, pbx, devices, "agin11", "4611")
    set_profile(kamailio, "agin11", cos_out="0", cos_classes="internal")
    gateway = gateway_phone(kamailio, devices)
    use_gateways(kamailio, gateway_of(gateway))
    caller.dial("4511")
    assert caller.outcome() == 403
    assert caller.last_answer.reason == "Forward Not Allowed For Caller"
    assert gateway.receive(timeout=0.5) is None


def test_a_forward_skips_the_number_the_caller_may_not_call_and_shows_the_agents_hotline(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    # The priority number abroad, which the caller may not call; the backup a mobile it may
    forwarding_agent(kamailio, pbx, "agfwd12", "4512", "+14155552671", "+84913000112")
    set_profile(kamailio, "agfwd12", cos_callerid=HOTLINE)
    caller = agent(kamailio, pbx, devices, "agin12", "4612")
    set_profile(kamailio, "agin12", **outgoing(cos_classes="internal,mobile"))
    gateway = gateway_phone(kamailio, devices)
    use_gateways(kamailio, gateway_of(gateway))
    caller.dial("4512")
    invite = invite_for(gateway, "+84913000112")
    assert invite is not None
    assert invite.headers["p-asserted-identity"] == [f"<sip:{HOTLINE}@{CARRIER_HOST}>"]
    gateway.answer(invite, 486, "Busy Here")
    assert caller.outcome() == 486


def test_a_carriers_caller_follows_the_agents_forward_showing_the_trunks_number(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    forwarding_agent(kamailio, pbx, "agfwd13", "4513", "+84913000113")
    map_hotline(kamailio, "+842838000013", "4513")
    gateway = gateway_phone(kamailio, devices)
    use_gateways(kamailio, gateway_of(gateway))
    gateway.send_invite("+842838000013")  # someone outside calls the hotline
    invite = invite_for(gateway, "+84913000113")
    assert invite is not None
    assert invite.headers["p-asserted-identity"] == [f"<sip:{TRUNK_NUMBER}@{CARRIER_HOST}>"]
    gateway.answer(invite, 486, "Busy Here")
    assert gateway.outcome() == 486


# ---- calls in -----------------------------------------------------------------------------

def test_only_the_trunks_addresses_may_call_in_unauthenticated(
    kamailio: Kamailio, pbx: KamailioPhoneSystem, devices: list[Phone]
) -> None:
    callee = agent(kamailio, pbx, devices, "agtrk21", "4721")
    assert callee.register() == 200
    map_hotline(kamailio, "+842838000021", "4721")
    gateway = gateway_phone(kamailio, devices)
    use_gateways(kamailio, gateway_of(gateway))
    # Anyone else, whatever it names and claims, is refused before anything is looked up
    for target in ("+842838000021", "4721", "4799"):
        stranger = Phone("+84912000009", "", "elsewhere.example", kamailio.sip,
                         host="127.0.0.3")
        devices.append(stranger)
        stranger.send_invite(target, f"P-Asserted-Identity: <sip:{HOTLINE}@x>\r\n")
        assert stranger.outcome() == 403
    assert callee.ring(timeout=0.5) is None
    # The carrier reaches the agent through the hotline, and nothing else
    gateway.send_invite("4799")
    assert gateway.outcome() == 404
    gateway.send_invite("02838000021")
    invite = callee.ring()
    assert invite is not None
    callee.answer(invite, 486, "Busy Here")
    assert gateway.outcome() == 486
