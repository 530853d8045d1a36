"""NAT traversal, proven across network namespaces: a real phone (baresip) on a private LAN
behind a masquerading router registers, is kept reachable by keepalive OPTIONS, receives and
makes calls, and its media flows both ways through rtpengine.

Topology (names and the public /30 are unique to each test process):

    lan namespace             router namespace                      this (root) namespace
    baresip 10.77.0.2 --- 10.77.0.1 | MASQUERADE | ROUTER_PUBLIC --- KAMAILIO_PUBLIC: Kamailio,
                                                                    rtpengine, the outside phone

The root namespace has no route to 10.77.0.0/24: a packet reaches the phone only through the
router's connection tracking (the mapping its own packets opened).
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.support.apps import worker_suffix
from tests.support.baresip import Baresip
from tests.support.pbx import Kamailio, Rtpengine, running_kamailio, running_rtpengine
from tests.support.processes import running, wait_for
from tests.support.sip import Message, Phone, _param, _uri, md5
from workflow.ports import PhoneSystemError

LAN_PREFIX = "10.77.0"
PHONE_ADDR = f"{LAN_PREFIX}.2"
CLONE_NEWNET = 0x40000000
#: A whole number of 20 ms PCMU frames of silence, as each test RTP packet carries.
SILENCE = b"\xff" * 160
#: The synchronisation source of the outside phone's RTP, as baresip reports its senders.
SSRC = 0x0A6E7D51


@dataclass(frozen=True)
class Network:
    """The namespaces of one test process and the addresses that matter."""

    lan: str
    router: str
    kamailio_addr: str
    router_public: str


def ip(*arguments: str, namespace: str | None = None) -> None:
    """Run `ip ...` (in `namespace` when given); fail loudly."""
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    command = [*prefix, *(["ip", *arguments] if arguments[0] != "iptables" else arguments)]
    subprocess.run(command, check=True, capture_output=True)


def unused_public_subnet() -> int:
    """The base address (as an int) of a /30 in 198.18.0.0/15 that no interface here uses."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], check=True, capture_output=True,
                          text=True).stdout
    while True:
        base = (198 << 24) | (18 << 16) | (secrets.randbelow(1 << 15) << 2)
        if _dotted(base + 1) not in used and _dotted(base + 2) not in used:
            return base


def _dotted(address: int) -> str:
    """An IPv4 address from its integer."""
    return socket.inet_ntoa(address.to_bytes(4, "big"))


@contextlib.contextmanager
def nat_network() -> Iterator[Network]:
    """A LAN namespace behind a router namespace that masquerades it to a /30 shared with
    this namespace; everything is removed on exit, whatever happened."""
    tag = secrets.token_hex(3)
    lan, router = f"adnat-lan-{tag}", f"adnat-rtr-{tag}"
    outside, router_out = f"anp{tag}", f"anr{tag}"
    router_in, phone_side = f"anl{tag}", f"anc{tag}"
    base = unused_public_subnet()
    kamailio_addr, router_public = _dotted(base + 1), _dotted(base + 2)
    try:
        ip("netns", "add", lan)
        ip("netns", "add", router)
        ip("link", "add", outside, "type", "veth", "peer", "name", router_out)
        ip("link", "set", router_out, "netns", router)
        ip("link", "add", router_in, "netns", router, "type", "veth", "peer", "name",
           phone_side, "netns", lan)
        ip("addr", "add", f"{kamailio_addr}/30", "dev", outside)
        ip("link", "set", outside, "up")
        ip("addr", "add", f"{router_public}/30", "dev", router_out, namespace=router)
        ip("addr", "add", f"{LAN_PREFIX}.1/24", "dev", router_in, namespace=router)
        for device in ("lo", router_out, router_in):
            ip("link", "set", device, "up", namespace=router)
        ip("addr", "add", f"{PHONE_ADDR}/24", "dev", phone_side, namespace=lan)
        for device in ("lo", phone_side):
            ip("link", "set", device, "up", namespace=lan)
        ip("route", "add", "default", "via", f"{LAN_PREFIX}.1", namespace=lan)
        subprocess.run(["ip", "netns", "exec", router, "sysctl", "-qw",
                        "net.ipv4.ip_forward=1"], check=True, capture_output=True)
        ip("iptables", "-t", "nat", "-A", "POSTROUTING", "-o", router_out, "-j",
           "MASQUERADE", namespace=router)
        yield Network(lan, router, kamailio_addr, router_public)
    finally:
        for namespace in (lan, router):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", outside], capture_output=True)


def socket_in(namespace: str, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket that lives in `namespace` (setns on a short-lived thread of its own)."""
    made: list[socket.socket | BaseException] = []

    def enter_and_open() -> None:
        """Join the namespace (this thread only) and open the socket there."""
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            with open(f"/var/run/netns/{namespace}") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            made.append(socket.socket(socket.AF_INET, kind))
        except BaseException as error:  # handed to the caller
            made.append(error)

    thread = threading.Thread(target=enter_and_open)
    thread.start()
    thread.join()
    if isinstance(made[0], BaseException):
        raise made[0]
    return made[0]


@contextlib.contextmanager
def running_baresip(network: Network, kamailio: Kamailio, username: str, password: str,
                    home: Path) -> Iterator[Baresip]:
    """baresip registered as `username` from the LAN, answering calls by itself."""
    control_port = 4444
    home.mkdir()
    host, port = kamailio.sip
    (home / "accounts").write_text(
        f"<sip:{username}@{kamailio.domain}>;auth_pass={password};"
        f'outbound="sip:{host}:{port}";regint=3600;answermode=auto;audio_codecs=PCMU\n')
    (home / "config").write_text("\n".join([
        f"sip_listen {PHONE_ADDR}:5060",
        "module_path /usr/lib/baresip/modules",
        "module g711.so", "module ausine.so", "module aubridge.so",
        "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
        f"ctrl_tcp_listen {PHONE_ADDR}:{control_port}",
        # ausine makes 48 kHz stereo only; baresip resamples it for PCMU.
        "audio_source ausine,440", "ausrc_srate 48000", "ausrc_channels 2",
        "audio_player aubridge,nat", "audio_alert aubridge,nat",
        "rtp_stats yes", "",
    ]))
    log = home / "baresip.log"
    command = ["ip", "netns", "exec", network.lan, "baresip", "-f", str(home), "-s", "-v"]
    with running(command, {}, log):
        yield Baresip(socket_in(network.lan), (PHONE_ADDR, control_port), log)


@dataclass
class OutsidePhone(Phone):
    """A phone in the open (this namespace, on Kamailio's public subnet) with a UDP socket
    of its own for media."""

    host: str = "127.0.0.1"
    extension: str = ""
    media: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.host, 0))
        self.media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.media.bind((self.host, 0))

    @property
    def sdp(self) -> str:
        """An audio offer/answer pointing at the media socket."""
        host, port = self.media.getsockname()
        return (f"v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
                f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")

    def invite(self, number: str) -> Message:
        """Call `number`, proving who calls when asked; the final answer."""
        uri = f"sip:{number}@{self.domain}"
        call_id = secrets.token_hex(8)
        kind = "Content-Type: application/sdp\r\n"
        self.send(self._request("INVITE", uri, uri, call_id, kind, self.sdp))
        assert self.outcome() == 407, self.last_answer.first_line
        self.ack_failure()
        header = self.last_answer.header("proxy-authenticate")
        realm, nonce = _param(header, "realm"), _param(header, "nonce")
        ha1 = md5(f"{self.username}:{realm}:{self.password}")
        response = md5(f"{ha1}:{nonce}:{md5(f'INVITE:{uri}')}")
        auth = (f'Proxy-Authorization: Digest username="{self.username}", realm="{realm}", '
                f'nonce="{nonce}", uri="{uri}", response="{response}", algorithm=MD5\r\n')
        self.send(self._request("INVITE", uri, uri, call_id, kind + auth, self.sdp))
        self.outcome(timeout=10)
        return self.last_answer

    def ack_failure(self) -> None:
        """ACK a negative final answer (same branch as its INVITE, hop by hop)."""
        answer = self.last_answer
        via = answer.header("via")
        self.send(f"ACK sip:{self.domain} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n"
                  f"From: {answer.header('from')}\r\nTo: {answer.header('to')}\r\n"
                  f"Call-ID: {answer.header('call-id')}\r\n"
                  f"CSeq: {answer.header('cseq').split()[0]} ACK\r\nContent-Length: 0\r\n\r\n")

    def accept_with_media(self, invite: Message) -> None:
        """Pick up with 200 OK and an SDP answer naming the media socket."""
        to = invite.header("to") + ("" if ";tag=" in invite.header("to") else f";tag={self.tag}")
        vias = "".join(f"Via: {via}\r\n" for via in invite.headers.get("via", []))
        routes = "".join(f"Record-Route: {route}\r\n"
                         for route in invite.headers.get("record-route", []))
        sdp = self.sdp
        self.send(
            f"SIP/2.0 200 OK\r\n{vias}{routes}"
            f"From: {invite.header('from')}\r\nTo: {to}\r\n"
            f"Call-ID: {invite.header('call-id')}\r\nCSeq: {invite.header('cseq')}\r\n"
            f"Contact: <sip:{self.username}@{self.address}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}")

    def in_dialog(self, method: str, dialog: Message, outgoing: bool) -> None:
        """A request inside the call `dialog` (the 200 OK we got, or the INVITE we answered),
        along its Record-Route."""
        recorded = [uri for header in dialog.headers.get("record-route", [])
                    for uri in re.findall(r"<[^>]+>", header)]
        routes = "".join(f"Route: {uri}\r\n"
                         for uri in (reversed(recorded) if outgoing else recorded))
        if outgoing:
            mine, theirs, target = dialog.header("from"), dialog.header("to"), _uri(
                dialog.header("contact"))
            number = int(dialog.header("cseq").split()[0]) + (method != "ACK")
        else:
            mine = dialog.header("to") + f";tag={self.tag}"
            theirs, target, number = dialog.header("from"), _uri(dialog.header("contact")), 1
        branch = "z9hG4bK" + secrets.token_hex(6)
        self.send(
            f"{method} {target} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.address};branch={branch};rport\r\n{routes}"
            f"Max-Forwards: 70\r\nFrom: {mine}\r\nTo: {theirs}\r\n"
            f"Call-ID: {dialog.header('call-id')}\r\nCSeq: {number} {method}\r\n"
            f"Content-Length: 0\r\n\r\n")

    def close(self) -> None:
        """Release both sockets."""
        self.sock.close()
        self.media.close()


def media_address(sdp: str) -> tuple[str, int]:
    """Where an SDP body wants its audio."""
    host = re.search(r"^c=IN IP4 (\S+)", sdp, re.M)
    port = re.search(r"^m=audio (\d+)", sdp, re.M)
    assert host and port, sdp
    return host.group(1), int(port.group(1))


def rtp_packet(sequence: int) -> bytes:
    """One RTP packet of PCMU silence."""
    return (bytes([0x80, 0]) + sequence.to_bytes(2, "big") + (sequence * 160).to_bytes(4, "big")
            + SSRC.to_bytes(4, "big") + SILENCE)


def exchange_media(outside: OutsidePhone, relay: tuple[str, int]) -> int:
    """Send RTP to the relay until RTP comes back; the number of RTP packets received."""
    outside.media.settimeout(0.2)
    received = 0
    for sequence in range(1, 200):
        outside.media.sendto(rtp_packet(sequence), relay)
        with contextlib.suppress(TimeoutError):
            data, source = outside.media.recvfrom(2048)
            assert source == relay, source  # the phone's media comes from the relay only
            if data[:1] == b"\x80":
                received += 1
        if received >= 10:
            break
    return received


def rtp_received_by_phone(phone: Baresip) -> int:
    """RTP packets baresip has received from the outside phone's media socket (its
    `audio_debug` report counts them per sender: our SSRC)."""
    report = str(phone.command("audio_debug").get("data", ""))
    found = re.search(rf"member 0x{SSRC:08x}:.*?rcvd=(\d+)", report, re.S)
    return int(found.group(1)) if found else 0


def sessions(engine: Rtpengine) -> list[str]:
    """The call IDs rtpengine relays media for now."""
    answer = engine.command("list")
    calls = answer.get("calls", [])
    assert isinstance(calls, list), answer
    return [str(call) for call in calls]


def registered(kamailio: Kamailio, username: str) -> bool:
    """Whether `username` has a registered contact."""
    try:
        return bool(kamailio.rpc("ul.lookup", "location", username))
    except PhoneSystemError:  # "AOR not found"
        return False


# ---- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    """The LAN, its router and the public /30 of this test process."""
    with nat_network() as built:
        yield built


@pytest.fixture(scope="module")
def rtpengine(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rtpengine]:
    """rtpengine relaying on Kamailio's public address."""
    log = tmp_path_factory.mktemp("rtpengine") / "rtpengine.log"
    with running_rtpengine(network.kamailio_addr, log) as engine:
        yield engine


@pytest.fixture(scope="module")
def nat_kamailio(network: Network, rtpengine: Rtpengine,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    """Kamailio on the public address, with rtpengine and keepalives every second."""
    log = tmp_path_factory.mktemp("kamailio_nat") / "kamailio.log"
    defines = {"WITH_RTPENGINE": "", "NATPING_INTERVAL": "1",
               "RTPENGINE_SOCK": f'"udp:{rtpengine.ng[0]}:{rtpengine.ng[1]}"'}
    with running_kamailio(f"agentdesk_kamailio_nat_{worker_suffix()}", log,
                          sip_addr=network.kamailio_addr, defines=defines) as running_pbx:
        yield running_pbx


@dataclass(frozen=True)
class Agent:
    """A provisioned agent: SIP username, password, extension."""

    username: str
    password: str
    extension: str


def provision(kamailio: Kamailio, extension: str) -> Agent:
    """A subscriber (hashes only) and its extension, as agentdesk writes them."""
    agent = Agent("ag" + secrets.token_hex(4), secrets.token_urlsafe(12), extension)
    realm = kamailio.domain
    with psycopg.connect(kamailio.database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO subscriber (username, domain, ha1, ha1b) VALUES (%s, %s, %s, %s)",
            (agent.username, realm, md5(f"{agent.username}:{realm}:{agent.password}"),
             md5(f"{agent.username}@{realm}:{realm}:{agent.password}")))
        connection.execute(
            "INSERT INTO dbaliases (alias_username, alias_domain, username, domain) "
            "VALUES (%s, %s, %s, %s)", (extension, realm, agent.username, realm))
    return agent


@pytest.fixture(scope="module")
def natted(network: Network, nat_kamailio: Kamailio,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Agent, Baresip]]:
    """Extension 5101 on baresip in the LAN, registered through the router."""
    agent = provision(nat_kamailio, "5101")
    home = tmp_path_factory.mktemp("baresip") / "home"
    with running_baresip(network, nat_kamailio, agent.username, agent.password, home) as phone:
        wait_for(lambda: registered(nat_kamailio, agent.username),
                 f"baresip to register (log: {phone.log})", timeout=10)
        yield agent, phone


@pytest.fixture
def outside(network: Network, nat_kamailio: Kamailio) -> Iterator[OutsidePhone]:
    """Extension 5102 on a phone in the open, registered."""
    agent = provision(nat_kamailio, "5102" + secrets.token_hex(2))
    phone = OutsidePhone(agent.username, agent.password, nat_kamailio.domain,
                         nat_kamailio.sip, host=network.kamailio_addr,
                         extension=agent.extension)
    try:
        assert phone.register() == 200
        yield phone
    finally:
        phone.close()


# ---- tests --------------------------------------------------------------------------------

def test_the_natted_registration_is_reached_at_its_mapping_and_kept_alive(
    natted: tuple[Agent, Baresip], network: Network, nat_kamailio: Kamailio
) -> None:
    agent, phone = natted
    contacts = str(nat_kamailio.rpc("ul.lookup", "location", agent.username))
    assert PHONE_ADDR in contacts  # what the phone says: its private address
    assert f"sip:{network.router_public}:" in contacts  # where it is reached: the mapping
    # Kamailio sends OPTIONS every NATPING_INTERVAL (1 s here) to the mapping; baresip, on
    # its private address, gets them and answers.
    wait_for(lambda: re.search(r"OPTIONS sip:\S+ SIP/2.0", phone.trace()),
             f"a keepalive OPTIONS at the phone (log: {phone.log})", timeout=10)
    keepalive = phone.trace().split("OPTIONS sip:", 1)[1][:800]
    assert "keepalive@" in keepalive, keepalive


def test_a_call_from_outside_reaches_the_natted_phone_and_media_flows_both_ways(
    natted: tuple[Agent, Baresip], outside: OutsidePhone, network: Network,
    rtpengine: Rtpengine
) -> None:
    agent, phone = natted
    # The INVITE reaches baresip through the router's mapping (nothing here routes to the
    # LAN), and it answers by itself.
    answer = outside.invite(agent.extension)
    assert answer.status == 200, answer.first_line
    call_id = answer.header("call-id")
    relay = media_address(answer.body)
    assert relay[0] == rtpengine.interface, answer.body  # never the phone's 10.77.0.2
    assert f"@{network.router_public}:" in answer.header("contact")  # its mapping
    outside.ack()
    assert call_id in sessions(rtpengine)
    # The phone's audio (a sine) reaches the outside phone; ours reaches the phone.
    assert exchange_media(outside, relay) >= 10
    wait_for(lambda: rtp_received_by_phone(phone) > 0, f"RTP at baresip (log: {phone.log})",
             timeout=10)
    outside.in_dialog("BYE", answer, outgoing=True)
    assert outside.outcome() == 200  # baresip got the BYE, through the mapping again
    assert call_id not in sessions(rtpengine)


def test_the_natted_phone_calls_out_and_media_flows_both_ways(
    natted: tuple[Agent, Baresip], outside: OutsidePhone, network: Network,
    rtpengine: Rtpengine, nat_kamailio: Kamailio
) -> None:
    _, phone = natted
    phone.command("dial", f"sip:{outside.extension}@{nat_kamailio.domain}")
    invite = outside.ring(timeout=10)
    assert invite is not None, phone.trace()[-3000:]
    call_id = invite.header("call-id")
    relay = media_address(invite.body)
    assert relay[0] == rtpengine.interface, invite.body  # never the phone's 10.77.0.2
    # Requests in the call go to where the phone sends from, not to its private address.
    assert f"@{network.router_public}:" in invite.header("contact"), invite.header("contact")
    outside.accept_with_media(invite)
    wait_for(lambda: call_id in sessions(rtpengine), "the media session", timeout=5)
    assert exchange_media(outside, relay) >= 10
    wait_for(lambda: rtp_received_by_phone(phone) > 0, f"RTP at baresip (log: {phone.log})",
             timeout=10)
    outside.in_dialog("BYE", invite, outgoing=False)
    assert outside.outcome() == 200  # the BYE crossed the router to the phone
    assert call_id not in sessions(rtpengine)


def test_a_call_between_phones_in_the_open_keeps_its_media_direct(
    outside: OutsidePhone, network: Network, nat_kamailio: Kamailio, rtpengine: Rtpengine
) -> None:
    callee_agent = provision(nat_kamailio, "5103" + secrets.token_hex(2))
    callee = OutsidePhone(callee_agent.username, callee_agent.password, nat_kamailio.domain,
                          nat_kamailio.sip, host=network.kamailio_addr)
    answers: list[Message] = []
    caller = threading.Thread(target=lambda: answers.append(outside.invite(callee_agent.extension)))
    try:
        assert callee.register() == 200
        caller.start()
        invite = callee.ring(timeout=10)
        assert invite is not None
        # Nobody is behind NAT: each side gets the other's own media address.
        assert media_address(invite.body) == outside.media.getsockname()
        assert "media=anchor" not in invite.header("record-route")
        callee.accept_with_media(invite)
        caller.join(10)
        assert answers and answers[0].status == 200
        assert media_address(answers[0].body) == callee.media.getsockname()
        assert invite.header("call-id") not in sessions(rtpengine)
        outside.ack()
        outside.in_dialog("BYE", answers[0], outgoing=True)
        assert callee.hung_up() is not None
    finally:
        caller.join(10)
        callee.close()
