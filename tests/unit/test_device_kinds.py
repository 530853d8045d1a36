"""What kind of device a registration comes from, by its transport and User-Agent."""

from __future__ import annotations

import pytest

from tasks.pbx.kamailio import contact_transport
from workflow.agents.reachability import device_kind
from workflow.ports import DeviceKind


@pytest.mark.parametrize(("user_agent", "transport", "kind"), [
    ("JsSIP 3.10.1", "wss", DeviceKind.WEB),
    ("", "ws", DeviceKind.WEB),
    ("Linphone Desktop/5.2.0 (Ubuntu 22.04) LinphoneCore/5.3.0", "tls", DeviceKind.APP),
    ("Linphonec/5.1.65", "udp", DeviceKind.APP),  # the console app, as it really registers
    ("LinphoneAndroid/5.2.5 (Pixel 7) LinphoneSDK/5.3.47", "udp", DeviceKind.APP),
    ("Unlinphoned 1.0", "udp", DeviceKind.UNKNOWN),
    ("Z 5.6.1 v2.10.19.9", "udp", DeviceKind.APP),
    ("Zoiper rv2.10.19.9", "udp", DeviceKind.APP),
    ("Bria iOS release 6.9.2 stamp 112233", "tcp", DeviceKind.APP),
    ("Acrobits Groundwire/6.4.1", "tls", DeviceKind.APP),
    ("MicroSIP/3.21.3", "udp", DeviceKind.APP),
    ("baresip v1.0.0 (x86_64/linux)", "udp", DeviceKind.APP),
    ("Grandstream Wave Android 1.0.4.62", "udp", DeviceKind.APP),
    ("Yealink SIP-T46S 66.86.0.15", "udp", DeviceKind.DESK_PHONE),
    ("Grandstream GXP2170 1.0.11.23", "udp", DeviceKind.DESK_PHONE),
    ("Fanvil X4U 2.12.1.1", "udp", DeviceKind.DESK_PHONE),
    ("Cisco-CP8845/12.8.1", "tcp", DeviceKind.DESK_PHONE),
    ("PolycomVVX-VVX_411-UA/6.4.0.2445", "udp", DeviceKind.DESK_PHONE),
    ("Poly/CCX600 7.1.2", "tls", DeviceKind.DESK_PHONE),
    ("snom D785/10.1.73.16", "udp", DeviceKind.DESK_PHONE),
    ("Htek UC926 2.42.6.5.8", "udp", DeviceKind.DESK_PHONE),
    # A browser is a browser whatever it calls itself, a maker named inside a word is not.
    ("Yealink SIP-T46S", "wss", DeviceKind.WEB),
    ("Polygon softswitch", "udp", DeviceKind.UNKNOWN),
    ("", "udp", DeviceKind.UNKNOWN),
])
def test_device_kind(user_agent: str, transport: str, kind: DeviceKind) -> None:
    assert device_kind(user_agent, transport) is kind


@pytest.mark.parametrize(("received", "contact", "socket", "transport"), [
    ("sip:203.0.113.5:40000;transport=ws", "sip:abc@df7jal23ls0d.invalid;transport=ws",
     "tcp:10.0.0.1:8080", "ws"),
    ("sip:203.0.113.5:40000;transport=wss", "sip:abc@x.invalid;transport=ws",
     "tls:10.0.0.1:8443", "wss"),
    # What Kamailio writes for a browser on its WSS port: "ws", on a TLS socket.
    ("sip:203.0.113.5:40000;transport=ws", "sip:abc@x.invalid;transport=ws",
     "tls:10.0.0.1:8443", "wss"),
    (None, "sip:abc@x.invalid;transport=ws", "tls:10.0.0.1:8443", "wss"),
    ("sip:203.0.113.5:5060", "sip:7@192.168.1.5:5060", "udp:10.0.0.1:5060", "udp"),
    ("sip:203.0.113.5:5061;transport=tls", "sip:7@192.168.1.5:5061;transport=TLS",
     "tls:10.0.0.1:5061", "tls"),
    (None, "<sip:7@192.168.1.5:5060;transport=tcp>", "tcp:10.0.0.1:5060", "tcp"),
    (None, "sip:7@192.168.1.5:5060", "tcp:10.0.0.1:5060", "tcp"),
    (None, "sip:7@192.168.1.5:5060", None, "udp"),
])
def test_contact_transport(received: str | None, contact: str, socket: str | None,
                           transport: str) -> None:
    assert contact_transport(received, contact, socket) == transport
