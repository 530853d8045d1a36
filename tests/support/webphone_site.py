"""A Web phone site for browser tests and benchmarks: a real Kamailio (WITH_WEBSOCKET and
WITH_TLS, ephemeral credentials, rtpengine bridging WebRTC to plain RTP) and agentdesk on it
(PHONE_SYSTEM=kamailio) serving four agents, and /my/phone opened in Chromium.

Kamailio's certificate is one `agentdesk pbx certificate` made for the switchboard's name;
Chromium resolves that name to 127.0.0.1 and trusts that certificate's key alone
(--ignore-certificate-errors-spki-list), so the TLS handshake is otherwise a real one.
Chromium fakes the microphone (a beep) and grants it without asking. Agents are provisioned
through tickets. Init scripts collect the page's RTCPeerConnections (for getStats()), its
notifications and its tones.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from playwright.sync_api import Browser, Page, WebSocket, expect
from sqlalchemy import select, update
from werkzeug.serving import make_server

from tests.support.apps import build_app, drain, fresh_pg_database, worker_suffix
from tests.support.baresip import Baresip
from tests.support.browser import ACTION_TIMEOUT_MS, CHROMIUM_ARGS, login
from tests.support.credentials import revealed_password
from tests.support.pbx import DOMAIN, Kamailio, Rtpengine, running_kamailio, running_rtpengine
from tests.support.processes import free_port, running
from tests.support.world import PASSWORD, World, actor, make_world
from web.cli import cli
from web.extensions import db
from workflow.models import Agent, Employee
from workflow.ports import PhoneSystemError
from workflow.tickets import decisions
from workflow.tickets.submission import TicketKind, TicketRequest, submit_ticket

SECRET = "e2e-webphone-secret-" + secrets.token_hex(8)
#: Fake media: a microphone that beeps, granted without a prompt. Sound follows Chromium's
#: own autoplay policy, as for the employee.
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
#: Keeps every RTCPeerConnection the page makes, for getStats().
COLLECT_PEER_CONNECTIONS = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = function (...args) {
    const made = new Original(...args);
    window.__peerConnections.push(made);
    return made;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Original);
})();
"""
#: Keeps every Notification the page shows and every tone it plays (the ringtone).
COLLECT_NOTIFICATIONS_AND_TONES = """
(() => {
  window.__notifications = [];
  const OriginalNotification = window.Notification;
  window.Notification = function (title, options) {
    const made = new OriginalNotification(title, options);
    const record = { title, body: (options || {}).body, closed: false };
    window.__notifications.push(record);
    const close = made.close.bind(made);
    made.close = () => { record.closed = true; close(); };
    return made;
  };
  window.Notification.prototype = OriginalNotification.prototype;
  Object.defineProperty(window.Notification, "permission",
                        { get: () => OriginalNotification.permission });
  window.Notification.requestPermission =
    (...args) => OriginalNotification.requestPermission(...args);
  window.__tones = [];
  const createOscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    const made = createOscillator.call(this);
    const record = { context: this, frequency: 0, started: false, stopped: false };
    window.__tones.push(record);
    const start = made.start.bind(made);
    const stop = made.stop.bind(made);
    made.start = (...args) => {
      record.started = true; record.frequency = made.frequency.value; return start(...args);
    };
    made.stop = (...args) => { record.stopped = true; return stop(...args); };
    return made;
  };
})();
"""
#: The frequencies of the tones playing now, with their sound context running.
TONES_PLAYING = """() => window.__tones
  .filter((tone) => tone.started && !tone.stopped && tone.context.state === "running")
  .map((tone) => tone.frequency)"""
#: Audio bytes the page's newest peer connection has received.
BYTES_RECEIVED = """async () => {
  const connection = window.__peerConnections[window.__peerConnections.length - 1];
  if (!connection) { return 0; }
  let bytes = 0;
  (await connection.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "audio") { bytes += report.bytesReceived; }
  });
  return bytes;
}"""
REGISTERED = "Sẵn sàng nhận và gọi"
#: The extensions: the requester's (web phone), the approver's (web phone), a desk phone,
#: and the admin's (web phone, revoked by the last test).
WEB, OTHER_WEB, DESK, REVOKED = "5701", "5702", "5703", "5704"


@dataclass
class Site:
    """agentdesk served over HTTP on the test Kamailio, with its agents."""

    app: Flask
    base_url: str
    world: World
    kamailio: Kamailio
    #: Where browsers reach the switchboard: wss://DOMAIN:port.
    ws_url: str
    #: The base64 SHA-256 of Kamailio's certificate's public key (what Chromium trusts).
    spki: str
    sip_usernames: dict[str, str]
    passwords: dict[str, str]
    folder: Path
    #: The rtpengine relaying the calls' media (None until serving_site sets it).
    rtpengine: Rtpengine | None = None


@contextlib.contextmanager
def running_baresip(kamailio: Kamailio, username: str, password: str,
                    home: Path) -> Iterator[Baresip]:
    """baresip registered as `username` over UDP, answering calls by itself."""
    control_port = free_port()
    home.mkdir()
    host, port = kamailio.sip
    (home / "accounts").write_text(
        f"<sip:{username}@{kamailio.domain}>;auth_pass={password};"
        f'outbound="sip:{host}:{port}";regint=3600;answermode=auto;audio_codecs=PCMU\n')
    (home / "config").write_text("\n".join([
        "sip_listen 127.0.0.1:0",
        "module_path /usr/lib/baresip/modules",
        "module g711.so", "module ausine.so", "module aubridge.so",
        "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
        f"ctrl_tcp_listen 127.0.0.1:{control_port}",
        "audio_source ausine,440", "ausrc_srate 48000", "ausrc_channels 2",
        "audio_player aubridge,webphone", "audio_alert aubridge,webphone",
        "rtp_stats yes", "",
    ]))
    log = home / "baresip.log"
    with running(["baresip", "-f", str(home), "-v"], {}, log):
        yield Baresip(socket.socket(), ("127.0.0.1", control_port), log)


@contextlib.contextmanager
def serving_site(folder: Path, no_answer_ms: int = 3000) -> Iterator[Site]:
    """Kamailio (WSS) + rtpengine, and agentdesk on it serving the four agents' people, with
    its files in `folder`; an unanswered call stops ringing after `no_answer_ms`."""
    certificate, key = folder / "tls.pem", folder / "tls.key"
    made = CliRunner().invoke(cli, ["pbx", "certificate", "--host", DOMAIN,
                                    "--certificate", str(certificate),
                                    "--private-key", str(key)])
    assert made.exit_code == 0, made.output
    wss_port = free_port()
    with running_rtpengine("127.0.0.1", folder / "rtpengine.log") as engine:
        defines = {"WITH_WEBSOCKET": "", "WS_PORT": str(free_port()), "WITH_TLS": "",
                   "WSS_PORT": str(wss_port), "TLS_PORT": str(free_port()),
                   "TLS_CERTIFICATE": f'"{certificate}"', "TLS_PRIVATE_KEY": f'"{key}"',
                   "EPHEMERAL_SECRET": f'"{SECRET}"', "WITH_RTPENGINE": "",
                   "RTPENGINE_SOCK": f'"udp:{engine.ng[0]}:{engine.ng[1]}"'}
        with running_kamailio(f"agentdesk_webphone_{worker_suffix()}", folder / "kamailio.log",
                              no_answer_ms=no_answer_ms, defines=defines) as kamailio, \
                _serve(kamailio, f"wss://{DOMAIN}:{wss_port}", spki_of(certificate),
                       folder) as site:
            site.rtpengine = engine
            yield site


def spki_of(certificate: Path) -> str:
    """The base64 SHA-256 of a PEM certificate's public key, as Chromium's pin list wants it."""
    key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
    digest = hashlib.sha256(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    return base64.b64encode(digest.digest()).decode()


@contextlib.contextmanager
def _serve(kamailio: Kamailio, ws_url: str, spki: str, folder: Path) -> Iterator[Site]:
    """agentdesk on `kamailio`, served on a free port while the tests run."""
    app = build_app(fresh_pg_database(f"agentdesk_webphone_app_{worker_suffix()}"),
                    PHONE_SYSTEM="kamailio", KAMAILIO_DATABASE_URL=kamailio.database_url,
                    KAMAILIO_RPC_URL=kamailio.rpc_url, SIP_DOMAIN=kamailio.domain,
                    WEBPHONE_SECRET=SECRET, WEBPHONE_WS_URL=ws_url,
                    WEBPHONE_CREDENTIAL_SECONDS=3600, SESSION_COOKIE_SECURE=False,
                    FORCE_HTTPS=False, REGISTRATIONS_CACHE_SECONDS=0)
    with app.app_context():
        world = make_world(employees_per_department=2)
        holders = {WEB: world.emails["requester"], OTHER_WEB: world.emails["approver"],
                   DESK: None, REVOKED: world.emails["admin"]}
        usernames, passwords = {}, {}
        for employee_id, (extension, email) in zip(world.employee_ids, holders.items(),
                                                    strict=False):
            db.session.execute(update(Employee).where(Employee.id == employee_id)
                               .values(email=email))
            db.session.commit()
            ticket = submit_ticket(db.session, actor(world.requester_id),
                                   TicketRequest(TicketKind.NEW, employee_id, extension))
            decisions.approve_ticket(db.session, actor(world.approver_id), ticket.id)
            drain(app)
            agent = db.session.scalars(select(Agent).where(Agent.extension == extension)).one()
            usernames[extension] = agent.sip_username
            passwords[extension] = revealed_password(app, agent.sip_username)
        db.session.remove()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(app, f"http://127.0.0.1:{port}", world, kamailio, ws_url, spki, usernames,
                   passwords, folder)
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


def browser_args(site: Site) -> list[str]:
    """Chromium's switches: a fake microphone granted without asking, the switchboard found
    by its name and its certificate trusted."""
    return CHROMIUM_ARGS + FAKE_MEDIA + [f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1",
                                         f"--ignore-certificate-errors-spki-list={site.spki}"]


@contextlib.contextmanager
def phone_page(browser: Browser, site: Site, email: str,
               viewport: dict[str, int] | None = None,
               scripts: Sequence[str] = ()) -> Iterator[Page]:
    """/my/phone signed in as `email`, registered; `scripts` run in it before its own (after
    the collecting ones), as init scripts."""
    context = browser.new_context(base_url=site.base_url, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh",
                                  viewport=viewport or {"width": 1366, "height": 768})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.grant_permissions(["microphone", "notifications"], origin=site.base_url)
    context.add_init_script(COLLECT_PEER_CONNECTIONS)
    context.add_init_script(COLLECT_NOTIFICATIONS_AND_TONES)
    for script in scripts:
        context.add_init_script(script)
    try:
        page = context.new_page()
        trace = TRACES.setdefault(page, [])
        page.on("websocket", lambda socket: _trace_socket(socket, trace))
        page.on("response", lambda response: trace.append(
            f"{response.status} {response.url}") if "webphone" in response.url else None)
        login(page, email, PASSWORD)
        page.goto("/my/phone")
        expect(page.locator("#phone-status")).to_have_text(REGISTERED)
        yield page
    finally:
        TRACES.pop(page, None)
        context.close()


#: What each open phone page exchanged: the first line of every SIP message over its
#: WebSocket, and its credential requests, for a failing test to show.
TRACES: dict[Page, list[str]] = {}


def _trace_socket(socket: WebSocket, trace: list[str]) -> None:
    """Keep the first line of each SIP message `socket` carries, and its closing."""
    def first_line(direction: str, frame: str | bytes) -> None:
        text = frame if isinstance(frame, str) else frame.decode(errors="replace")
        trace.append(f"{direction} {text.partition(chr(13))[0]}")

    trace.append(f"open {socket.url}")
    socket.on("framesent", lambda frame: first_line(">", frame))
    socket.on("framereceived", lambda frame: first_line("<", frame))
    socket.on("close", lambda _: trace.append("closed"))


def traced(page: Page) -> str:
    """What the page exchanged so far (see TRACES), one line each."""
    return "\n".join(TRACES.get(page, []))


def contacts(kamailio: Kamailio, username: str) -> list[str]:
    """The contacts registered now for `username` (empty when none)."""
    try:
        found = kamailio.rpc("ul.lookup", "location", username)
    except PhoneSystemError:  # "AOR not found"
        return []
    return [str(contact.get("Contact", {}).get("Address", ""))
            for contact in found.get("Contacts", [])] if isinstance(found, dict) else []


def sockets(kamailio: Kamailio, username: str) -> list[str]:
    """The proxy's sockets that `username`'s registered contacts came in on."""
    found = kamailio.rpc("ul.lookup", "location", username)
    return [str(contact.get("Contact", {}).get("Socket", ""))
            for contact in found.get("Contacts", [])]


def bytes_received(page: Page) -> int:
    """Audio bytes the page's latest call has received (getStats)."""
    return int(page.evaluate(BYTES_RECEIVED))
