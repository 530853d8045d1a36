"""Requests inside a call are relayed only within a call the proxy set up (no open relay)."""

from __future__ import annotations

import pytest

from tests.support.pbx import Kamailio
from tests.support.sip import Phone


def forged_in_dialog(outsider: Phone, kamailio: Kamailio, target: str, method: str) -> None:
    """A request that claims to be inside a call (To-tag, Route to the proxy) but is not."""
    host, port = kamailio.sip
    outsider.send(
        f"{method} sip:+84912345678@{target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {outsider.address};branch=z9hG4bKforged{method};rport\r\n"
        f"Route: <sip:{host}:{port};lr>\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:attacker@example.vn>;tag=a1\r\n"
        "To: <sip:+84912345678@example.vn>;tag=b2\r\n"
        f"Call-ID: forged-{method}\r\nCSeq: 1 {method}\r\n"
        f"Contact: <sip:attacker@{outsider.address}>\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize("method", ["INVITE", "BYE", "MESSAGE"])
def test_a_forged_in_dialog_request_is_refused_and_reaches_nobody(
    kamailio: Kamailio, method: str
) -> None:
    # The target stands for a gateway or any host the attacker wants the proxy to reach.
    target = Phone("gateway", "-", "example.vn", kamailio.sip)
    outsider = Phone("attacker", "-", "example.vn", kamailio.sip)
    try:
        forged_in_dialog(outsider, kamailio, target.address, method)
        answer = outsider.receive()
        assert answer is not None and answer.status == 403, answer
        assert target.receive(timeout=1.0) is None
    finally:
        target.close()
        outsider.close()
