"""The Web phone's listener (WITH_WEBSOCKET): SIP over WebSocket with agentdesk's ephemeral
credentials only, no RPC on its port, and WebRTC media bridged to plain RTP by rtpengine.

The browser is played by a small SIP-over-WebSocket client (the `websockets` package), which
speaks what JsSIP sends: Via SIP/2.0/WS with an ".invalid" host, Contact ;transport=ws, digest
without qop."""

from __future__ import annotations

import contextlib
import http.client
import re
import secrets
import socket
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tasks.pbx.kamailio import KamailioPhoneSystem
from tests.support.apps import worker_suffix
from tests.support.pbx import (
    DOMAIN,
    Kamailio,
    Rtpengine,
    post_rpc,
    running_kamailio,
    running_rtpengine,
)
from tests.support.processes import free_port, wait_for
from tests.support.sip import Message, Phone, md5, parse
from web.cli import cli
from workflow.agents.webphone import ephemeral_credential
from workflow.domain.routing import Routing
from workflow.models import utcnow
from workflow.ports import PhoneAccount

SECRET = "test-webphone-secret"
#: The Web phone's agent and a desk phone's agent: SIP username, extension, stored password.
WEB_AGENT = ("agweb", "5901", "mat-khau-web-1")
DESK_AGENT = ("agdesk", "5902", "mat-khau-desk-2")
#: An agent revoked while its Web phone is registered.
REVOKED_AGENT = ("agrevoked", "5903", "mat-khau-revoked-3")

#: What a browser offers (Chromium's shape, trimmed): ICE, DTLS-SRTP, rtcp-mux, Opus and PCMA.
WEBRTC_SDP = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=audio 41000 UDP/TLS/RTP/SAVPF 111 8\r\nc=IN IP4 127.0.0.1\r\n"
    "a=candidate:1 1 udp 2122260223 127.0.0.1 41000 typ host\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 "
    + ":".join(["AB"] * 32) + "\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=rtpmap:8 PCMA/8000\r\n")
#: What a desk phone offers: plain RTP, PCMA.
PLAIN_SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio 40002 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")


def ok_with_sdp(browser: WebPhone, invite: Message, sdp: str) -> str:
    """The browser's 200 OK to `invite` with `sdp`, its Record-Route sent back."""
    to = invite.header("to")
    if ";tag=" not in to:
        to += f";tag={browser.tag}"
    vias = "".join(f"Via: {via}\r\n" for via in invite.headers.get("via", []))
    routes = "".join(f"Record-Route: {route}\r\n"
                     for route in invite.headers.get("record-route", []))
    return (f"SIP/2.0 200 OK\r\n{vias}{routes}From: {invite.header('from')}\r\nTo: {to}\r\n"
            f"Call-ID: {invite.header('call-id')}\r\nCSeq: {invite.header('cseq')}\r\n"
            f"Contact: <sip:{browser.username}@{browser.host};transport=ws>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}")


def webrtc_answer(offer: str) -> str:
    """A browser's answer to `offer`: its first codec, its media ID, DTLS active."""
    codec = re.search(r"m=audio \d+ \S+ (\d+)", offer)
    mid = re.search(r"a=mid:(\S+)", offer)
    assert codec, offer
    return (WEBRTC_SDP.replace("a=setup:actpass", "a=setup:active")
            .replace("SAVPF 111 8", f"SAVPF {codec.group(1)}")
            .replace("a=rtpmap:111 opus/48000/2\r\na=rtpmap:8 PCMA/8000\r\n", "")
            .replace("a=mid:0", f"a=mid:{mid.group(1) if mid else '0'}"))


@dataclass(frozen=True)
class WebPbx:
    """Kamailio WITH_WEBSOCKET and WITH_RTPENGINE, its WebSocket port and the relay."""

    kamailio: Kamailio
    ws_port: int
    rtpengine: Rtpengine
    pbx: KamailioPhoneSystem


@pytest.fixture(scope="module")
def web_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebPbx]:
    """The Web phone's Kamailio, with the two agents provisioned."""
    folder = tmp_path_factory.mktemp("websocket")
    ws_port = free_port()
    with running_rtpengine("127.0.0.1", folder / "rtpengine.log") as engine:
        defines = {"WITH_WEBSOCKET": "", "WS_PORT": str(ws_port),
                   "EPHEMERAL_SECRET": f'"{SECRET}"', "WITH_RTPENGINE": "",
                   "RTPENGINE_SOCK": f'"udp:{engine.ng[0]}:{engine.ng[1]}"'}
        with running_kamailio(f"agentdesk_ws_{worker_suffix()}", folder / "kamailio.log",
                              defines=defines) as kamailio:
            database = create_engine(kamailio.database_url.replace("postgresql://",
                                                                   "postgresql+psycopg://"))
            pbx = KamailioPhoneSystem(database, kamailio.domain, kamailio.rpc_url)
            for username, extension, password in (WEB_AGENT, DESK_AGENT, REVOKED_AGENT):
                pbx.ensure_account(PhoneAccount(username, extension, Routing(), password), 1)
            yield WebPbx(kamailio, ws_port, engine, pbx)
            database.dispose()


@pytest.fixture(scope="module")
def wss_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """Kamailio WITH_WEBSOCKET and WITH_TLS (a certificate `agentdesk pbx certificate` made):
    its WSS port and that certificate."""
    folder = tmp_path_factory.mktemp("wss")
    certificate, key = folder / "tls.pem", folder / "tls.key"
    made = CliRunner().invoke(cli, ["pbx", "certificate", "--host", DOMAIN, "--ip", "127.0.0.1",
                                    "--certificate", str(certificate),
                                    "--private-key", str(key)])
    assert made.exit_code == 0, made.output
    wss_port = free_port()
    defines = {"WITH_WEBSOCKET": "", "WITH_TLS": "", "WS_PORT": str(free_port()),
               "WSS_PORT": str(wss_port), "TLS_PORT": str(free_port()),
               "TLS_CERTIFICATE": f'"{certificate}"', "TLS_PRIVATE_KEY": f'"{key}"',
               "EPHEMERAL_SECRET": f'"{SECRET}"'}
    with running_kamailio(f"agentdesk_wss_{worker_suffix()}", folder / "kamailio.log",
                          defines=defines) as kamailio:
        database = create_engine(kamailio.database_url.replace("postgresql://",
                                                               "postgresql+psycopg://"))
        pbx = KamailioPhoneSystem(database, kamailio.domain, kamailio.rpc_url)
        username, extension, password = WEB_AGENT
        pbx.ensure_account(PhoneAccount(username, extension, Routing(), password), 1)
        database.dispose()
        yield wss_port, certificate


@dataclass
class WebPhone:
    """A browser's SIP stack over one WebSocket connection."""

    connection: ClientConnection
    username: str
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    host: str = field(default_factory=lambda: secrets.token_hex(6) + ".invalid")
    instance: str = field(default_factory=lambda: str(uuid.uuid4()))
    cseq: int = 1

    def send(self, text: str) -> None:
        """One SIP message, one text frame."""
        self.connection.send(text)

    def receive(self, timeout: float = 3.0) -> Message | None:
        """The next SIP message, or None after `timeout` seconds."""
        try:
            data = self.connection.recv(timeout)
        except TimeoutError:
            return None
        return parse(data.encode() if isinstance(data, str) else data)

    def reply(self, request: Message, status: str) -> None:
        """Answer a request received (e.g. a BYE) with `status`."""
        vias = "".join(f"Via: {via}\r\n" for via in request.headers.get("via", []))
        to = request.header("to")
        if ";tag=" not in to:
            to += f";tag={self.tag}"
        self.send(f"SIP/2.0 {status}\r\n{vias}From: {request.header('from')}\r\n"
                  f"To: {to}\r\nCall-ID: {request.header('call-id')}\r\n"
                  f"CSeq: {request.header('cseq')}\r\nContent-Length: 0\r\n\r\n")

    def final(self) -> Message:
        """The next final response (1xx skipped)."""
        while (answer := self.receive()) is not None:
            if answer.status >= 200:
                return answer
        raise TimeoutError("no final answer over the WebSocket")

    def request(self, method: str, uri: str, to: str, call_id: str, extra: str = "",
                body: str = "") -> str:
        """A request as JsSIP writes it (its REGISTER with an instance ID and reg-id, and
        Supported: path, outbound, gruu)."""
        self.cseq += 1
        contact_params = (f';+sip.ice;reg-id=1;+sip.instance="<urn:uuid:{self.instance}>"'
                          if method == "REGISTER" else "")
        if method == "REGISTER":
            extra = "Supported: path,gruu,outbound\r\n" + extra
        return (
            f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/WS {self.host};branch=z9hG4bK{secrets.token_hex(6)}\r\n"
            f"Max-Forwards: 69\r\nFrom: <sip:{self.username}@{DOMAIN}>;tag={self.tag}\r\n"
            f"To: <{to}>\r\nCall-ID: {call_id}\r\nCSeq: {self.cseq} {method}\r\n"
            f"Contact: <sip:{self.username}@{self.host};transport=ws>{contact_params}\r\n"
            f"{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}")

    def register(self, auth_user: str, password: str) -> Message:
        """REGISTER as `username`, answering the challenge as `auth_user`; the final answer."""
        call_id, uri, aor = secrets.token_hex(8), f"sip:{DOMAIN}", f"sip:{self.username}@{DOMAIN}"
        self.send(self.request("REGISTER", uri, aor, call_id, "Expires: 600\r\n"))
        answer = self.final()
        if answer.status != 401:
            return answer
        auth = digest("Authorization", answer.header("www-authenticate"), auth_user, password,
                      "REGISTER", uri)
        self.send(self.request("REGISTER", uri, aor, call_id, f"Expires: 600\r\n{auth}"))
        return self.final()

    def dial(self, number: str, auth_user: str, password: str) -> None:
        """INVITE `number` with a WebRTC offer, answering the proxy's challenge (`final`
        then waits for the call's answer)."""
        call_id, uri = secrets.token_hex(8), f"sip:{number}@{DOMAIN}"
        sdp = "Content-Type: application/sdp\r\n"
        self.send(self.request("INVITE", uri, uri, call_id, sdp, WEBRTC_SDP))
        challenge = self.final()
        assert challenge.status == 407, challenge.first_line
        # (The 407 was sent statelessly over a reliable transport: no ACK is awaited.)
        auth = digest("Proxy-Authorization", challenge.header("proxy-authenticate"), auth_user,
                      password, "INVITE", uri)
        self.send(self.request("INVITE", uri, uri, call_id, sdp + auth, WEBRTC_SDP))


def digest(header: str, challenge: str, user: str, password: str, method: str, uri: str) -> str:
    """A digest answer to `challenge` (without qop, as the proxy also accepts)."""
    realm = re.search(r'realm="([^"]*)"', challenge)
    nonce = re.search(r'nonce="([^"]*)"', challenge)
    assert realm and nonce, challenge
    ha1 = md5(f"{user}:{realm.group(1)}:{password}")
    response = md5(f"{ha1}:{nonce.group(1)}:{md5(f'{method}:{uri}')}")
    return (f'{header}: Digest username="{user}", realm="{realm.group(1)}", '
            f'nonce="{nonce.group(1)}", uri="{uri}", response="{response}", algorithm=MD5\r\n')


@pytest.fixture
def web_phones() -> Iterator[contextlib.ExitStack]:
    """Where the Web phones of a test keep their connections, closed after it."""
    with contextlib.ExitStack() as connections:
        yield connections


def open_web_phone(web_pbx: WebPbx, connections: contextlib.ExitStack,
                   username: str) -> WebPhone:
    """A browser connected to the WebSocket port (sub-protocol sip, as JsSIP asks)."""
    connection = connections.enter_context(connect(
        f"ws://127.0.0.1:{web_pbx.ws_port}/", subprotocols=[Subprotocol("sip")],
        open_timeout=5))
    return WebPhone(connection, username)


def credential(username: str, lifetime: timedelta = timedelta(minutes=5)) -> tuple[str, str]:
    """agentdesk's ephemeral username and password for `username`."""
    issued = ephemeral_credential(SECRET, username, utcnow(), lifetime)
    return issued.username, issued.password


def contacts_of(kamailio: Kamailio, username: str) -> list[str]:
    """The contacts registered for `username` (usrloc)."""
    try:
        answer = kamailio.rpc("ul.lookup", "location", f"{username}@{DOMAIN}")
    except Exception:  # ul.lookup answers an error for an AOR with no contact
        return []
    return [contact["Contact"]["Address"] for contact in answer["Contacts"]]


def test_a_browser_registers_with_agentdesk_credentials(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack) -> None:
    phone = open_web_phone(web_pbx, web_phones, WEB_AGENT[0])
    answer = phone.register(*credential(WEB_AGENT[0]))
    assert answer.status == 200, answer.first_line
    assert any(f"@{phone.host};transport=ws" in contact
               for contact in contacts_of(web_pbx.kamailio, WEB_AGENT[0]))


def test_an_expired_credential_is_refused(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack) -> None:
    phone = open_web_phone(web_pbx, web_phones, DESK_AGENT[0])
    answer = phone.register(*credential(DESK_AGENT[0], timedelta(seconds=-5)))
    assert (answer.status, answer.reason) == (403, "Credentials Expired")
    assert contacts_of(web_pbx.kamailio, DESK_AGENT[0]) == []


def test_a_credential_for_one_user_does_not_register_another(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack) -> None:
    phone = open_web_phone(web_pbx, web_phones, DESK_AGENT[0])
    answer = phone.register(*credential(WEB_AGENT[0]))
    assert answer.status == 403, answer.first_line
    assert contacts_of(web_pbx.kamailio, DESK_AGENT[0]) == []


def test_a_forged_credential_is_challenged_again(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack) -> None:
    username, _ = credential(DESK_AGENT[0])
    forged = ephemeral_credential("another-secret", DESK_AGENT[0], utcnow(),
                                  timedelta(minutes=5)).password
    phone = open_web_phone(web_pbx, web_phones, DESK_AGENT[0])
    assert phone.register(username, forged).status == 401
    assert contacts_of(web_pbx.kamailio, DESK_AGENT[0]) == []


def test_the_stored_sip_password_does_not_work_over_websocket(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack) -> None:
    username, _, password = DESK_AGENT
    phone = open_web_phone(web_pbx, web_phones, username)
    answer = phone.register(username, password)
    assert answer.status == 403, answer.first_line
    assert contacts_of(web_pbx.kamailio, username) == []


def test_ephemeral_credentials_do_not_work_over_udp(web_pbx: WebPbx) -> None:
    username, password = credential(DESK_AGENT[0])
    # The UDP client authenticates as the ephemeral username (its REGISTER names the agent).
    phone = Phone(DESK_AGENT[0], password, DOMAIN, web_pbx.kamailio.sip)
    try:
        phone.username = username
        status = phone.register()
    finally:
        phone.close()
    assert status in (401, 403)
    assert contacts_of(web_pbx.kamailio, DESK_AGENT[0]) == []


def test_a_browser_registers_over_wss(wss_pbx: tuple[int, Path],
                                      web_phones: contextlib.ExitStack) -> None:
    port, certificate = wss_pbx
    context = ssl.create_default_context(cafile=str(certificate))
    connection = web_phones.enter_context(connect(
        f"wss://{DOMAIN}:{port}/", subprotocols=[Subprotocol("sip")], open_timeout=5,
        ssl=context, sock=socket.create_connection(("127.0.0.1", port), timeout=5),
        server_hostname=DOMAIN))
    phone = WebPhone(connection, WEB_AGENT[0])
    answer = phone.register(*credential(WEB_AGENT[0]))
    assert answer.status == 200, answer.first_line
    assert f"@{phone.host};transport=ws" in answer.header("contact")
    # Nor does the WSS port run RPC (HTTPS).
    status, _ = post_rpc_tls(port, context)
    assert status == 403


def post_rpc_tls(port: int, context: ssl.SSLContext) -> tuple[int, str]:
    """POST core.version to /RPC over HTTPS at DOMAIN (127.0.0.1):port; status and body."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    context.check_hostname = False
    try:
        connection.request("POST", "/RPC", body=b'{"jsonrpc": "2.0", "method": '
                           b'"core.version", "id": 1}',
                           headers={"Content-Type": "application/json", "Host": DOMAIN})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_the_websocket_port_answers_no_rpc_and_no_plain_http(web_pbx: WebPbx) -> None:
    status, body = post_rpc("127.0.0.1", web_pbx.ws_port, "core.version")
    assert status == 403 and "result" not in body
    # An upgrade naming another host (a page of another site rebinding its name) is refused.
    with socket.create_connection(("127.0.0.1", web_pbx.ws_port), timeout=5) as raw, \
            pytest.raises(InvalidStatus) as refused, \
            connect(f"ws://evil.example:{web_pbx.ws_port}/", sock=raw,
                    subprotocols=[Subprotocol("sip")], open_timeout=5):
        pass
    assert refused.value.response.status_code == 403


def test_a_desk_phone_calling_a_browser_gets_plain_rtp_and_the_browser_webrtc(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack, devices: list[Phone]) -> None:
    browser = open_web_phone(web_pbx, web_phones, WEB_AGENT[0])
    assert browser.register(*credential(WEB_AGENT[0])).status == 200
    desk = Phone(DESK_AGENT[0], DESK_AGENT[2], DOMAIN, web_pbx.kamailio.sip)
    devices.append(desk)
    desk.dial(WEB_AGENT[1])
    invite = browser.receive()
    while invite is not None and invite.method != "INVITE":
        invite = browser.receive()
    assert invite is not None, "the browser did not ring"
    # Towards the browser: ICE, DTLS-SRTP, rtcp-mux; the desk phone's address never shows.
    offer = invite.body
    assert "RTP/SAVPF" in offer and "a=ice-ufrag:" in offer and "a=fingerprint:" in offer
    assert "a=rtcp-mux" in offer and "a=crypto:" not in offer
    assert "40000" not in offer  # the desk phone's own media port is rtpengine's business
    # The browser answers as WebRTC does; the desk phone gets plain RTP without ICE.
    browser.send(ok_with_sdp(browser, invite, webrtc_answer(offer)))
    assert desk.outcome() == 200
    answered = desk.last_answer.body
    assert "m=audio" in answered and "RTP/AVP" in answered and "SAVPF" not in answered
    assert "a=ice-ufrag" not in answered and "a=fingerprint" not in answered
    # rtpengine holds the call: one side DTLS-SRTP with ICE, the other plain RTP.
    call = web_pbx.rtpengine.command("query", **{"call-id": invite.header("call-id")})
    assert call["result"] == "ok", call
    sides = {media["protocol"]: media["flags"] for tag in call["tags"].values()
             for media in tag["medias"]}
    assert set(sides) == {"RTP/AVP", "UDP/TLS/RTP/SAVPF"}, sides
    assert {"ICE", "DTLS-SRTP", "rtcp-mux"} <= set(sides["UDP/TLS/RTP/SAVPF"])
    assert not {"ICE", "DTLS-SRTP"} & set(sides["RTP/AVP"])
    assert "a=sendrecv" in answered or "a=send" not in answered
    desk.ack()
    desk.hang_up()
    bye = browser.receive()
    while bye is not None and bye.method != "BYE":
        bye = browser.receive()
    assert bye is not None, "the hang-up did not reach the browser"
    browser.reply(bye, "200 OK")
    assert desk.outcome() == 200


def test_a_browser_calls_a_desk_phone_with_its_ephemeral_credentials(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack, devices: list[Phone]) -> None:
    desk = Phone(DESK_AGENT[0], DESK_AGENT[2], DOMAIN, web_pbx.kamailio.sip)
    devices.append(desk)
    assert desk.register() == 200
    browser = open_web_phone(web_pbx, web_phones, WEB_AGENT[0])
    auth_user, password = credential(WEB_AGENT[0])
    assert browser.register(auth_user, password).status == 200
    browser.dial(DESK_AGENT[1], auth_user, password)
    invite = desk.ring()
    assert invite is not None, "the desk phone did not ring"
    # Towards the desk phone: plain RTP, no ICE, no DTLS, no rtcp-mux to demultiplex.
    offer = invite.body
    assert "RTP/AVP" in offer and "SAVPF" not in offer
    assert "a=ice-ufrag" not in offer and "a=fingerprint" not in offer
    assert "a=rtcp-mux" not in offer
    desk.accept(invite)
    answer = browser.final()
    assert answer.status == 200
    assert "RTP/SAVPF" in answer.body and "a=fingerprint:" in answer.body
    assert "a=ice-ufrag:" in answer.body and "a=rtcp-mux" in answer.body


def test_a_browser_may_not_call_as_another_user(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack) -> None:
    browser = open_web_phone(web_pbx, web_phones, DESK_AGENT[0])
    browser.dial(WEB_AGENT[1], *credential(WEB_AGENT[0]))
    answer = browser.final()
    assert (answer.status, answer.reason) == (403, "Forbidden auth ID")



@pytest.mark.parametrize("picks_up", ["app", "browser"])
def test_the_browser_and_the_app_ring_together_each_in_its_own_media(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack, devices: list[Phone],
        picks_up: str) -> None:
    browser = open_web_phone(web_pbx, web_phones, WEB_AGENT[0])
    assert browser.register(*credential(WEB_AGENT[0])).status == 200
    app = Phone(WEB_AGENT[0], WEB_AGENT[2], DOMAIN, web_pbx.kamailio.sip)
    devices.append(app)
    assert app.register() == 200
    try:
        desk = Phone(DESK_AGENT[0], DESK_AGENT[2], DOMAIN, web_pbx.kamailio.sip)
        devices.append(desk)
        desk.dial(WEB_AGENT[1])
        at_app = app.ring()
        at_browser = browser.receive()
        while at_browser is not None and at_browser.method != "INVITE":
            at_browser = browser.receive()
        assert at_app is not None and at_browser is not None, "both should ring"
        browser.reply(at_browser, "180 Ringing")
        # (The caller hears it ring there before anyone picks up: a branch is cancelled
        # once it has answered something.)
        ringing = desk.receive()
        while ringing is not None and f"tag={browser.tag}" not in ringing.header("to"):
            ringing = desk.receive()
        assert ringing is not None and ringing.status == 180
        assert "RTP/SAVPF" in at_browser.body and "a=fingerprint:" in at_browser.body
        assert "RTP/AVP" in at_app.body and "SAVPF" not in at_app.body
        assert "a=ice-ufrag" not in at_app.body and "a=fingerprint" not in at_app.body
        # Whoever picks up, the caller hears it over plain RTP; the other stops ringing.
        if picks_up == "app":
            app.accept(at_app)
        else:
            browser.send(ok_with_sdp(browser, at_browser, webrtc_answer(at_browser.body)))
        assert desk.outcome() == 200
        assert "RTP/AVP" in desk.last_answer.body and "SAVPF" not in desk.last_answer.body
        assert "a=ice-ufrag" not in desk.last_answer.body
        if picks_up == "app":
            cancel = browser.receive()
            while cancel is not None and cancel.method != "CANCEL":
                cancel = browser.receive()
            assert cancel is not None, "the browser was not told the call was taken"
        else:
            cancel = app.receive()
            while cancel is not None and cancel.method != "CANCEL":
                cancel = app.receive()
            assert cancel is not None, "the app was not told the call was taken"
        desk.ack()
        call = web_pbx.rtpengine.command("query", **{"call-id": at_app.header("call-id")})
        sides = {media["protocol"]: media["flags"] for tag in call["tags"].values()
                 for media in tag["medias"]}
        assert "RTP/AVP" in sides, call
        if picks_up == "browser":
            assert {"ICE", "DTLS-SRTP"} <= set(sides["UDP/TLS/RTP/SAVPF"]), sides
    finally:
        app.register(expires=0)


def test_a_closed_browser_is_no_longer_registered(web_pbx: WebPbx) -> None:
    with connect(f"ws://127.0.0.1:{web_pbx.ws_port}/", subprotocols=[Subprotocol("sip")],
                 open_timeout=5) as connection:
        phone = WebPhone(connection, DESK_AGENT[0])
        assert phone.register(*credential(DESK_AGENT[0])).status == 200
        assert any(phone.host in contact
                   for contact in contacts_of(web_pbx.kamailio, DESK_AGENT[0]))
    wait_for(lambda: not any(phone.host in contact
                             for contact in contacts_of(web_pbx.kamailio, DESK_AGENT[0])),
             "the closed browser's contact to go", timeout=10)


def test_a_browser_calls_another_browser_webrtc_on_both_sides(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack) -> None:
    callee = open_web_phone(web_pbx, web_phones, WEB_AGENT[0])
    assert callee.register(*credential(WEB_AGENT[0])).status == 200
    caller = open_web_phone(web_pbx, web_phones, DESK_AGENT[0])
    auth_user, password = credential(DESK_AGENT[0])
    assert caller.register(auth_user, password).status == 200
    caller.dial(WEB_AGENT[1], auth_user, password)
    invite = callee.receive()
    while invite is not None and invite.method != "INVITE":
        invite = callee.receive()
    assert invite is not None, "the called browser did not ring"
    assert "RTP/SAVPF" in invite.body and "a=fingerprint:" in invite.body
    assert "a=ice-ufrag:" in invite.body and "a=rtcp-mux" in invite.body
    assert "abcdefghijklmnopqrstuvwx" not in invite.body  # rtpengine's ICE, not the caller's
    callee.send(ok_with_sdp(callee, invite, webrtc_answer(invite.body)))
    answer = caller.final()
    assert answer.status == 200
    assert "RTP/SAVPF" in answer.body and "a=fingerprint:" in answer.body
    assert "a=ice-ufrag:" in answer.body and "a=rtcp-mux" in answer.body
    call = web_pbx.rtpengine.command("query", **{"call-id": invite.header("call-id")})
    protocols = [media["protocol"] for tag in call["tags"].values() for media in tag["medias"]]
    assert protocols and set(protocols) == {"UDP/TLS/RTP/SAVPF"}, call


def test_revoking_the_agent_ends_its_web_phone_registration_for_good(
        web_pbx: WebPbx, web_phones: contextlib.ExitStack) -> None:
    username = REVOKED_AGENT[0]
    browser = open_web_phone(web_pbx, web_phones, username)
    auth_user, password = credential(username)
    assert browser.register(auth_user, password).status == 200
    assert contacts_of(web_pbx.kamailio, username)
    web_pbx.pbx.remove_account(username, 1)
    assert contacts_of(web_pbx.kamailio, username) == []
    # The switchboard closes the browser's connection (so it learns at once) ...
    with pytest.raises(ConnectionClosed):
        browser.connection.recv(timeout=10)
    # ... and when it comes back, its credential has not expired, yet it neither registers
    # nor calls any more.
    browser = open_web_phone(web_pbx, web_phones, username)
    answer = browser.register(auth_user, password)
    assert answer.status == 403, answer.first_line
    assert contacts_of(web_pbx.kamailio, username) == []
    browser.dial(DESK_AGENT[1], auth_user, password)
    assert browser.final().status == 403
