"""SIP over TLS (WITH_TLS): a phone registers and calls over TLS, media flows both ways; the
plain ports keep working and the TLS port speaks no plaintext SIP. Requests inside a call
reach a phone over TLS or TCP through the connection it opened, even when its Contact names a
port that accepts none (baresip names its connection's port; a SIPp desk phone another)."""

from __future__ import annotations

import contextlib
import json
import math
import re
import secrets
import socket
import struct
import subprocess
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.apps import worker_suffix
from tests.support.pbx import DOMAIN, Kamailio, running_kamailio
from tests.support.processes import free_port, running, wait_for
from tests.support.sip import Message, Phone, _uri
from web.cli import cli
from workflow.domain.routing import Routing
from workflow.ports import PhoneAccount

#: The TLS phone (baresip) and the UDP phone it calls: SIP username, extension, password.
TLS_AGENT = ("agtls", "5801", "mat-khau-tls-1")
UDP_AGENT = ("agudp", "5802", "mat-khau-udp-2")
SCENARIOS = Path(__file__).with_name("sipp")


@dataclass(frozen=True)
class TlsPbx:
    """Kamailio started WITH_TLS, its TLS port and the certificate it presents."""

    kamailio: Kamailio
    tls_port: int
    certificate: Path


@pytest.fixture(scope="module")
def tls_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsPbx]:
    """Kamailio WITH_TLS on a free port, with a certificate `agentdesk pbx certificate` made,
    and the two agents provisioned."""
    folder = tmp_path_factory.mktemp("tls")
    certificate, key = folder / "tls.pem", folder / "tls.key"
    made = CliRunner().invoke(cli, ["pbx", "certificate", "--host", DOMAIN, "--ip", "127.0.0.1",
                                    "--certificate", str(certificate),
                                    "--private-key", str(key)])
    assert made.exit_code == 0, made.output
    tls_port = free_port()
    defines = {"WITH_TLS": "", "TLS_PORT": str(tls_port),
               "TLS_CERTIFICATE": f'"{certificate}"', "TLS_PRIVATE_KEY": f'"{key}"'}
    with running_kamailio(f"agentdesk_tls_{worker_suffix()}", folder / "kamailio.log",
                          defines=defines) as kamailio:
        engine = create_engine(kamailio.database_url.replace("postgresql://",
                                                             "postgresql+psycopg://"))
        pbx = KamailioPhoneSystem(engine, kamailio.domain, kamailio.rpc_url)
        for username, extension, password in (TLS_AGENT, UDP_AGENT):
            pbx.ensure_account(PhoneAccount(username, extension, Routing(), password), 1)
        engine.dispose()
        yield TlsPbx(kamailio, tls_port, certificate)


class Baresip:
    """A baresip softphone with one account over TLS (or `transport` tcp), driven through its
    ctrl_tcp socket."""

    def __init__(self, folder: Path, pbx: TlsPbx, answer: str = "manual",
                 transport: str = "tls") -> None:
        """Write its configuration (a tone file as the microphone) into `folder`."""
        self.folder, self.control_port = folder, free_port()
        self.log = folder / "baresip.log"
        tone = folder / "tone.wav"
        with wave.open(str(tone), "wb") as output:  # 8 kHz mono: what PCMU sends as is
            output.setnchannels(1)
            output.setsampwidth(2)
            output.setframerate(8000)
            output.writeframes(b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                for i in range(8000 * 30)))
        (folder / "config").write_text(
            # Ports of the system's choosing: it binds one for each transport (a free port
            # picked here may have a taken neighbour).
            "sip_listen 127.0.0.1:0\n"
            f"sip_cafile {pbx.certificate}\n"  # it trusts the proxy's self-signed certificate
            "module_path /usr/lib/baresip/modules\n"
            "module g711.so\nmodule aufile.so\nmodule aubridge.so\n"
            "module_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n"
            f"ctrl_tcp_listen 127.0.0.1:{self.control_port}\n"
            f"audio_source aufile,{tone}\n"
            "audio_player aubridge,nowhere\naudio_alert aubridge,nowhere\n")
        username, _, password = TLS_AGENT
        port = pbx.tls_port if transport == "tls" else pbx.kamailio.sip[1]
        (folder / "accounts").write_text(
            f"<sip:{username}@{DOMAIN};transport={transport}>;auth_pass={password};"
            f'outbound="sip:127.0.0.1:{port};transport={transport}";regint=600;'
            f"answermode={answer}\n")

    @contextlib.contextmanager
    def running(self) -> Iterator[Baresip]:
        """baresip on loopback only, stopped on the way out (`-t`: never past a minute)."""
        with self.log.open("w") as output:
            process = subprocess.Popen(
                ["baresip", "-4", "-n", "127.0.0.1", "-f", str(self.folder), "-t", "60"],
                stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            yield self
        finally:
            process.terminate()
            try:  # it lingers over a call still unconfirmed (see the ACK note below)
                process.wait(2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def command(self, name: str, params: str = "") -> None:
        """Send one command (a netstring of JSON, as ctrl_tcp reads it)."""
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as control:
            control.sendall(f"{len(body)}:".encode() + body + b",")

    def output(self) -> str:
        """What it logged so far."""
        return self.log.read_text(errors="replace")


def registered_contact(kamailio: Kamailio, username: str) -> dict[str, object] | None:
    """The first contact the registrar holds for `username`, or None."""
    try:
        found = kamailio.rpc("ul.lookup", "location", username)
    except Exception:  # "AOR not found" until the phone has registered
        return None
    return dict(found["Contacts"][0]["Contact"])


def media_of(sdp: str) -> tuple[str, int]:
    """Where an SDP body wants its audio sent."""
    address = re.search(r"c=IN IP4 (\S+)", sdp)
    port = re.search(r"m=audio (\d+)", sdp)
    assert address and port, sdp
    return address.group(1), int(port.group(1))


def audio_offer(media: socket.socket) -> str:
    """An SDP body naming `media` (PCMU) as where this side receives audio."""
    port = media.getsockname()[1]
    return ("v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def send_rtp(media: socket.socket, to: tuple[str, int], count: int = 25) -> None:
    """`count` PCMU packets of silence from `media` to `to`."""
    for number in range(count):
        header = struct.pack("!BBHII", 0x80, 0, number + 1, number * 160, 0x5EC12E7)
        media.sendto(header + b"\xff" * 160, to)


def receive_rtp(media: socket.socket) -> tuple[bytes, tuple[str, int]]:
    """The next packet `media` gets (3 s at most) and where it came from."""
    media.settimeout(3.0)
    return media.recvfrom(2048)


def accept_with_media(phone: Phone, invite: Message, media: socket.socket) -> None:
    """200 OK to `invite` with an SDP answer naming `media`, Record-Route kept."""
    to = invite.header("to") + f";tag={phone.tag}"
    vias = "".join(f"Via: {via}\r\n" for via in invite.headers["via"])
    routes = "".join(f"Record-Route: {route}\r\n"
                     for route in invite.headers.get("record-route", []))
    sdp = audio_offer(media)
    phone.send(f"SIP/2.0 200 OK\r\n{vias}{routes}From: {invite.header('from')}\r\nTo: {to}\r\n"
               f"Call-ID: {invite.header('call-id')}\r\nCSeq: {invite.header('cseq')}\r\n"
               f"Contact: <sip:{phone.username}@{phone.address}>\r\n"
               f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}")


def test_a_phone_registers_over_tls_and_calls_with_media_both_ways(
    tls_pbx: TlsPbx, tmp_path: Path
) -> None:
    kamailio = tls_pbx.kamailio
    callee = Phone(UDP_AGENT[0], UDP_AGENT[2], DOMAIN, kamailio.sip)
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    try:
        assert callee.register() == 200
        with Baresip(tmp_path, tls_pbx).running() as phone:
            contact = wait_for(lambda: registered_contact(kamailio, TLS_AGENT[0]),
                               "the TLS phone to register")
            assert str(contact["Socket"]) == f"tls:127.0.0.1:{tls_pbx.tls_port}"
            assert str(contact["Received"]).endswith(";transport=tls")

            phone.command("dial", f"sip:{UDP_AGENT[1]}@{DOMAIN}")
            invite = callee.ring(timeout=10)
            assert invite is not None, phone.output()
            # The caller authenticated (407) and its INVITE came in over TLS.
            assert "SIP/2.0/TLS" in invite.headers["via"][-1]
            accept_with_media(callee, invite, media)
            ack = callee.receive()
            assert ack is not None and ack.method == "ACK"

            # Caller -> callee: the tone reaches the address the callee's answer names.
            _, source = receive_rtp(media)
            assert source == media_of(invite.body)
            # Callee -> caller: baresip reports RTP from our media socket.
            send_rtp(media, media_of(invite.body))
            wait_for(lambda: f"receiving from 127.0.0.1:{media.getsockname()[1]}"
                     in phone.output(), "baresip to receive the callee's RTP")

            # The TLS phone hangs up; the callee's 200 OK goes back over its connection.
            phone.command("hangup")
            assert callee.hung_up() is not None, phone.output()
    finally:
        media.close()
        callee.close()


def test_a_call_reaches_a_phone_registered_over_tls_through_its_connection(
    tls_pbx: TlsPbx, tmp_path: Path
) -> None:
    kamailio = tls_pbx.kamailio
    caller = Phone(UDP_AGENT[0], UDP_AGENT[2], DOMAIN, kamailio.sip)
    try:
        with Baresip(tmp_path, tls_pbx, answer="auto").running() as phone:
            wait_for(lambda: registered_contact(kamailio, TLS_AGENT[0]),
                     "the TLS phone to register")
            # baresip accepts no TLS connection (it has no certificate of its own): the
            # INVITE can only reach it over the connection it registered over.
            caller.dial(TLS_AGENT[1])
            assert caller.outcome(timeout=10) == 200, phone.output()
            assert "m=audio" in caller.last_answer.body
    finally:
        caller.close()


def hang_up_answered_call(phone: Phone, invite: Message) -> int:
    """End the call `phone` answered (`invite`) with a BYE of its own, along the call's
    Record-Route; the status of the answer it gets."""
    routes = "".join(f"Route: {uri}\r\n" for header in invite.headers.get("record-route", [])
                     for uri in re.findall(r"<[^>]+>", header))
    phone.send(
        f"BYE {_uri(invite.header('contact'))} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {phone.address};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
        f"{routes}Max-Forwards: 70\r\nFrom: {invite.header('to')};tag={phone.tag}\r\n"
        f"To: {invite.header('from')}\r\nCall-ID: {invite.header('call-id')}\r\n"
        "CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n")
    while (answer := phone.receive()) is not None:
        if answer.status >= 200:
            return answer.status
    raise TimeoutError("the BYE got no final answer")


def closed_by_remote(phone: Baresip) -> bool:
    """Whether baresip reports its call ended by the other side (a BYE it received)."""
    return "Connection reset by peer" in phone.output()


@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_the_other_side_hangs_up_a_call_the_phone_over_a_connection_answered(
    tls_pbx: TlsPbx, tmp_path: Path, transport: str
) -> None:
    kamailio = tls_pbx.kamailio
    caller = Phone(UDP_AGENT[0], UDP_AGENT[2], DOMAIN, kamailio.sip)
    baresip = Baresip(tmp_path, tls_pbx, answer="auto", transport=transport)
    try:
        with baresip.running() as phone:
            contact = wait_for(lambda: registered_contact(kamailio, TLS_AGENT[0]),
                               "the phone to register")
            assert str(contact["Received"]).endswith(f";transport={transport}")
            caller.dial(TLS_AGENT[1])
            assert caller.outcome(timeout=10) == 200, phone.output()
            caller.ack()
            wait_for(lambda: "Call established" in phone.output(), "the call to be confirmed")
            caller.hang_up()
            assert caller.outcome() == 200, phone.output()
            wait_for(lambda: closed_by_remote(phone), "baresip to see the call ended")
    finally:
        caller.close()


@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_the_other_side_hangs_up_a_call_the_phone_over_a_connection_made(
    tls_pbx: TlsPbx, tmp_path: Path, transport: str
) -> None:
    kamailio = tls_pbx.kamailio
    callee = Phone(UDP_AGENT[0], UDP_AGENT[2], DOMAIN, kamailio.sip)
    baresip = Baresip(tmp_path, tls_pbx, transport=transport)
    try:
        assert callee.register() == 200
        with baresip.running() as phone:
            wait_for(lambda: registered_contact(kamailio, TLS_AGENT[0]), "the phone to register")
            phone.command("dial", f"sip:{UDP_AGENT[1]}@{DOMAIN}")
            invite = callee.ring(timeout=10)
            assert invite is not None, phone.output()
            callee.accept(invite)
            ack = callee.receive()
            assert ack is not None and ack.method == "ACK"
            assert hang_up_answered_call(callee, invite) == 200, phone.output()
            wait_for(lambda: closed_by_remote(phone), "baresip to see the call ended")
    finally:
        callee.close()


def sipp_over_tcp(kamailio: Kamailio, scenario: str, contact_port: int,
                  *options: str) -> list[str]:
    """The command of a SIPp desk phone over one TCP connection to the proxy, for one run of
    `scenario`. Its Contact names 127.0.0.1:`contact_port`, where nothing accepts a
    connection: a phone's listening port, out of reach behind its firewall or NAT. (Its Via
    names its connection's port, -p: no sign of NAT.)"""
    return ["sipp", f"{kamailio.sip[0]}:{kamailio.sip[1]}", "-sf", str(SCENARIOS / scenario),
            "-i", "127.0.0.1", "-p", str(free_port()), "-t", "t1", "-key", "domain", DOMAIN,
            "-key", "contact_port", str(contact_port),
            "-m", "1", "-nostdin", "-nr", "-timeout", "15s", "-timeout_error", *options]


def test_the_other_side_hangs_up_a_call_a_tcp_desk_phone_answered(
    tls_pbx: TlsPbx, tmp_path: Path
) -> None:
    kamailio = tls_pbx.kamailio
    caller = Phone(UDP_AGENT[0], UDP_AGENT[2], DOMAIN, kamailio.sip)
    username, extension, password = TLS_AGENT
    port = free_port()
    command = sipp_over_tcp(kamailio, "tcp_phone.xml", port, "-oocsf",
                            str(SCENARIOS / "tcp_answer.xml"), "-s", username, "-au", username,
                            "-ap", password, "-d", "15000")
    try:
        with running(command, {}, tmp_path / "sipp.log"):
            contact = wait_for(lambda: registered_contact(kamailio, username),
                               "the TCP phone to register")
            assert str(contact["Received"]).endswith(";transport=tcp")
            caller.dial(extension)
            assert caller.outcome(timeout=10) == 200
            # Its Contact names a port where no connection is accepted: the ACK and the BYE
            # reach it only over the connection it registered over.
            assert f"127.0.0.1:{port};transport=tcp" in caller.last_answer.header("contact")
            caller.ack()
            caller.hang_up()
            assert caller.outcome() == 200  # SIPp's: it got the BYE
    finally:
        caller.close()


def test_the_other_side_hangs_up_a_call_a_tcp_desk_phone_made(
    tls_pbx: TlsPbx, tmp_path: Path
) -> None:
    kamailio = tls_pbx.kamailio
    callee = Phone(UDP_AGENT[0], UDP_AGENT[2], DOMAIN, kamailio.sip)
    username, _, password = TLS_AGENT
    port = free_port()
    command = sipp_over_tcp(kamailio, "tcp_call.xml", port, "-s", UDP_AGENT[1],
                            "-key", "caller", username, "-au", username, "-ap", password)
    try:
        assert callee.register() == 200
        with running(command, {}, tmp_path / "sipp.log") as phone:
            # Picked up with no 180 first: Kamailio's workers may relay a 180 after the
            # 200 OK, which SIPp's scenario would take for an error.
            invite = callee.receive(timeout=10)
            assert invite is not None and invite.method == "INVITE"
            assert f"127.0.0.1:{port};transport=tcp" in invite.header("contact")
            callee.accept(invite)
            ack = callee.receive()
            assert ack is not None and ack.method == "ACK"
            assert hang_up_answered_call(callee, invite) == 200  # SIPp's: it got the BYE
            assert phone.wait(10) == 0  # its scenario played to the end
    finally:
        callee.close()


def sip_options(port: int, transport: str) -> str:
    """An OPTIONS keepalive to the proxy itself."""
    return (f"OPTIONS sip:{DOMAIN};transport={transport} SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport.upper()} 127.0.0.1:9;branch=z9hG4bK{secrets.token_hex(6)}"
            ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:probe@example.vn>;tag=p1\r\n"
            f"To: <sip:{DOMAIN}>\r\nCall-ID: {secrets.token_hex(8)}\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n")


def over_tcp(port: int, request: str) -> bytes:
    """What the proxy sends back on a plain TCP connection to `port` (until it closes or
    goes quiet for 3 s)."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as connection:
        connection.sendall(request.encode())
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := connection.recv(4096):
                received += chunk
                if b"\r\n\r\n" in received:
                    break
    return received


def test_plain_sip_ports_still_answer_and_the_tls_port_refuses_plaintext(
    tls_pbx: TlsPbx
) -> None:
    host, port = tls_pbx.kamailio.sip
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(3)
        udp.sendto(sip_options(port, "udp").encode(), (host, port))
        assert udp.recv(4096).startswith(b"SIP/2.0 200 Keepalive")
    assert over_tcp(port, sip_options(port, "tcp")).startswith(b"SIP/2.0 200 Keepalive")
    # Plaintext on the TLS port: the handshake fails and no SIP answer comes back.
    refused = over_tcp(tls_pbx.tls_port, sip_options(tls_pbx.tls_port, "tcp"))
    assert b"SIP/2.0" not in refused
