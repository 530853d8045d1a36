"""The management plane is off the SIP ports: JSON-RPC on its own loopback listener only."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from tests.support.pbx import Kamailio, post_rpc
from tests.support.sip import Phone

#: Methods an attacker would run through RPC: add a contact, start a call, stop the proxy.
DANGEROUS = ("ul.add", "tm.t_uac_start", "core.kill")


def rpc_port(kamailio: Kamailio) -> int:
    """The port of the management listener."""
    return int(kamailio.rpc_url.rsplit(":", 1)[1].split("/", 1)[0])


def test_rpc_sent_to_the_sip_port_is_refused_and_runs_nothing(kamailio: Kamailio) -> None:
    host, sip_port = kamailio.sip
    for method in ("core.version", *DANGEROUS):
        status, body = post_rpc(host, sip_port, method)
        assert status == 403, (method, status, body)
        assert "result" not in body and "kamailio" not in body.lower()
    # The proxy is still up and the management listener still answers.
    status, body = post_rpc(host, rpc_port(kamailio), "core.version")
    assert status == 200 and json.loads(body)["result"]


@pytest.mark.parametrize("other_address", ["127.0.0.2"])
def test_nothing_listens_beyond_the_addresses_given(
    kamailio: Kamailio, other_address: str
) -> None:
    # Started with 127.0.0.1 only: another local address reaches neither SIP nor RPC.
    for port in (kamailio.sip[1], rpc_port(kamailio)):
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((other_address, port)) != 0, port
    sip_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sip_udp.settimeout(2)
        sip_udp.sendto(b"OPTIONS sip:x SIP/2.0\r\n\r\n", (other_address, kamailio.sip[1]))
        with pytest.raises((TimeoutError, ConnectionRefusedError)):
            sip_udp.recvfrom(2048)
    finally:
        sip_udp.close()


def test_operators_reach_the_control_socket_with_kamcmd(kamailio: Kamailio) -> None:
    answer = subprocess.run(["kamcmd", "-s", kamailio.control, "core.version"],
                            capture_output=True, text=True, timeout=10, check=True)
    assert answer.stdout.startswith("kamailio")


def test_replies_name_no_product_or_version(kamailio: Kamailio) -> None:
    phone = Phone("nobody", "wrong", kamailio.domain, kamailio.sip)
    try:
        phone.send(
            f"OPTIONS sip:{kamailio.domain} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {phone.address};branch=z9hG4bKprobe1;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:scanner@example.vn>;tag=1\r\n"
            f"To: <sip:{kamailio.domain}>\r\nCall-ID: probe-1\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n")
        answer = phone.receive()
        assert answer is not None and answer.status == 200
        assert "kamailio" not in answer.header("Server").lower()
        assert "kamailio" not in answer.header("User-Agent").lower()
        phone.send(
            f"REGISTER sip:{kamailio.domain} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {phone.address};branch=z9hG4bKprobe2;rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:nobody@{kamailio.domain}>;tag=2\r\n"
            f"To: <sip:nobody@{kamailio.domain}>\r\nCall-ID: probe-2\r\nCSeq: 1 REGISTER\r\n"
            f"Contact: <sip:nobody@{phone.address}>\r\nContent-Length: 0\r\n\r\n")
        challenge = phone.receive()
        assert challenge is not None and challenge.status == 401
        assert "kamailio" not in (challenge.first_line + str(challenge.headers)).lower()
    finally:
        phone.close()


def options(phone: Phone, domain: str, user_agent: str, call_id: str) -> None:
    """Send an OPTIONS to the proxy as a device with this User-Agent."""
    phone.send(
        f"OPTIONS sip:{domain} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {phone.address};branch=z9hG4bK{call_id};rport\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:100@{domain}>;tag=1\r\n"
        f"To: <sip:100@{domain}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
        f"User-Agent: {user_agent}\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize("scanner", ["friendly-scanner", "Friendly-Scanner 1.0",
                                     "sipvicious", "VaxSIPUserAgent/3.1", "sipcli/v1.8"])
def test_known_scanners_get_no_answer_while_phones_do(kamailio: Kamailio, scanner: str) -> None:
    phone = Phone("100", "x", kamailio.domain, kamailio.sip)
    try:
        options(phone, kamailio.domain, scanner, "scan1")
        assert phone.receive(timeout=1.5) is None
        options(phone, kamailio.domain, "Linphone/5.2 (belle-sip/5.2)", "phone1")
        answer = phone.receive()
        assert answer is not None and answer.status == 200
    finally:
        phone.close()
